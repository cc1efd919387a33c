// Signals: blocked everywhere, delivered through a signalfd to the reactor.
#include "server/signals.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include "server/io.h"

namespace cork {

namespace {
sigset_t server_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  return set;
}
}  // namespace

bool block_server_signals() {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  if (::sigaction(SIGPIPE, &ignore, nullptr) != 0) return false;
  if (::sigaction(SIGXFSZ, &ignore, nullptr) != 0) return false;
  const sigset_t set = server_signal_set();
  const int err = ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (err != 0) {
    errno = err;
    return false;
  }
  return true;
}

UniqueFd open_signal_fd() {
  const sigset_t set = server_signal_set();
  return UniqueFd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
}

int read_signal(int signal_fd) {
  signalfd_siginfo info{};
  // A signalfd returns whole records or nothing.
  const IoResult r = read_some(signal_fd, &info, sizeof info);
  return r.ok() && r.bytes == sizeof info ? static_cast<int>(info.ssi_signo) : 0;
}

}  // namespace cork
