// Signals: block_server_signals() leaves the process with the dispositions a server needs. A
// vanished client must not kill it (SIGPIPE), nor a full file system (SIGXFSZ: a write past
// RLIMIT_FSIZE then fails with EFBIG, which the logs handle, instead of ending the process).
#include "server/signals.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace cork {
namespace {

// Puts back the signal mask and the dispositions the test changes. Neither copyable nor movable.
class SavedSignals {
 public:
  SavedSignals() {
    ::pthread_sigmask(SIG_SETMASK, nullptr, &mask_);
    ::sigaction(SIGPIPE, nullptr, &pipe_);
    ::sigaction(SIGXFSZ, nullptr, &file_size_);
  }
  ~SavedSignals() {
    ::sigaction(SIGXFSZ, &file_size_, nullptr);
    ::sigaction(SIGPIPE, &pipe_, nullptr);
    ::pthread_sigmask(SIG_SETMASK, &mask_, nullptr);
  }
  SavedSignals(const SavedSignals&) = delete;
  SavedSignals& operator=(const SavedSignals&) = delete;

 private:
  sigset_t mask_{};
  struct sigaction pipe_ {};
  struct sigaction file_size_ {};
};

TEST(SignalsTest, SigpipeAndSigxfszAreIgnored) {
  SavedSignals saved;
  struct sigaction defaults {};
  defaults.sa_handler = SIG_DFL;
  ASSERT_EQ(::sigaction(SIGPIPE, &defaults, nullptr), 0);
  ASSERT_EQ(::sigaction(SIGXFSZ, &defaults, nullptr), 0);
  ASSERT_TRUE(block_server_signals());
  struct sigaction now {};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, SIG_IGN) << "SIGPIPE";
  ASSERT_EQ(::sigaction(SIGXFSZ, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, SIG_IGN) << "SIGXFSZ";
}

}  // namespace
}  // namespace cork
