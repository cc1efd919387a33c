// Integration-test support: the real cork binary as a child process. A CorkProcess owns a temp
// directory (config, logs, document root), starts cork on 127.0.0.1 with port 0, waits for the
// "listening on" line to learn the port, and stops the child it started (by PID) when it dies.
// run_cork() runs the binary to completion for the command-line and config tests.
//
// Some fault tests need the child set up differently from the test process (a low descriptor
// limit, an unprivileged user); those settings are applied in the child between fork() and
// exec(), so that the test process itself is never changed.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "integration/temp_dir_support.h"

namespace cork::integration {

// Path of the cork binary under test (CORK_BINARY, set by tests/CMakeLists.txt).
const char* cork_binary();

// "exited with status 3", "killed by signal 9", ...
std::string describe_wait_status(int status);

// Splits on '\n'; a final newline does not make an empty last line.
std::vector<std::string> split_lines(std::string_view text);

// Copyable value: how a finished run of cork went.
struct RunResult {
  int wait_status = 0;     // as from waitpid()
  bool timed_out = false;  // killed by us because it did not exit in time
  std::string out;         // everything written to stdout
  std::string err;         // everything written to stderr

  bool exited_with(int code) const;
  bool exited_nonzero() const;
};

// Runs `cork args...` with stdin from /dev/null and stdout/stderr captured, killing it (SIGKILL)
// if it has not exited after `timeout`.
RunResult run_cork(const std::vector<std::string>& args,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Neither copyable nor movable: owns a child process and a directory.
//
// Layout of dir(): cork.ini, stdout.log, stderr.log, root/ (the document root, configured).
// Tests may put files outside root/ (e.g. a secret next to it) through dir().
class CorkProcess {
 public:
  CorkProcess();
  // SIGTERM to the child if still running, up to 5 s, then SIGKILL; the temp dir is removed.
  ~CorkProcess();
  CorkProcess(const CorkProcess&) = delete;
  CorkProcess& operator=(const CorkProcess&) = delete;

  // Sets a config key before start(). The defaults are host = 127.0.0.1, port = 0,
  // root = dir()/root, access_log = off, error_log = - (stderr, captured in stderr.log).
  void set(const std::string& section, const std::string& key, std::string value);

  // Before start(): cork's RLIMIT_NOFILE, soft and hard (cork raises its soft limit to the hard
  // one at start-up, so only a hard limit sticks).
  void set_nofile_limit(rlim_t limit);
  // Before start(): cork's RLIMIT_FSIZE, soft and hard: files it writes stop growing at `bytes`
  // (write(2) then fails with EFBIG), as on a full file system.
  void set_file_size_limit(rlim_t bytes);
  // Before start(): cork's stderr is a pipe (64 KiB) that the test reads only in stderr_text()
  // and what calls it, so that a test can let it fill up by not looking. Not with
  // set_nofile_limit(), set_file_size_limit(), run_as() or run_under().
  void pipe_stderr() { pipe_stderr_ = true; }
  // Before start(): run cork as this user and group (the test must run as root). start() then
  // makes dir() and root() readable and traversable by everyone (0755), so that the user can
  // read its config and the files put() writes (0644 under the usual umask).
  void run_as(uid_t uid, gid_t gid);
  // Before start(): run cork under another program, e.g. {"/usr/bin/valgrind", "-q"}; the
  // cork binary and its arguments follow `command`. Signals go to the wrapper's PID.
  void run_under(std::vector<std::string> command) { wrapper_ = std::move(command); }

  const TempDir& dir() const { return dir_; }
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path config_path() const { return dir_.path() / "cork.ini"; }
  // Writes root()/relative.
  std::filesystem::path put(std::string_view relative, std::string_view content) const;

  // Writes the config, starts `cork -c cork.ini extra_args...` and waits (up to 10 s) for
  // "listening on ADDR:PORT" on its stderr.
  ::testing::AssertionResult start(const std::vector<std::string>& extra_args = {});

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // With pipe_stderr(): everything read from the pipe so far plus what it holds now.
  std::string stderr_text() const;
  std::string stdout_text() const;
  // How often `needle` occurs in stderr_text().
  std::size_t stderr_count(std::string_view needle) const;
  // Waits up to `timeout` for `needle` to appear in stderr_text().
  ::testing::AssertionResult wait_for_stderr(std::string_view needle,
                                             std::chrono::milliseconds timeout);
  // The child's open descriptors (entries of /proc/PID/fd); 0 when it cannot be read.
  std::size_t open_fds() const;
  // Those of them that are sockets: the listener and one per connection. Unlike open_fds(),
  // not affected by the files cork keeps open in its file cache.
  std::size_t open_sockets() const;
  // One field of /proc/PID/task/TID/stat for each of the child's threads, numbered as in
  // proc(5) (3: the state letter, 41: the scheduling policy); "" for a thread whose file could
  // not be read. Empty when the thread list cannot be read.
  std::vector<std::string> thread_stat_fields(int field) const;

  // Stops the child with SIGSTOP and waits (up to 5 s) until every one of its threads is stopped,
  // so that whatever a test sends meanwhile is waiting for it when resume() sends SIGCONT.
  ::testing::AssertionResult pause();
  void resume();

  // True while the child has not exited (reaps it when it has).
  bool running();
  // Sends `signal` and waits up to `timeout` for the exit; `wait_status` as from waitpid().
  ::testing::AssertionResult stop(int signal, int& wait_status,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits up to `timeout` for the child to exit on its own.
  ::testing::AssertionResult wait_exit(int& wait_status, std::chrono::milliseconds timeout);

 private:
  TempDir dir_;
  std::filesystem::path root_;
  std::map<std::string, std::map<std::string, std::string>> config_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int wait_status_ = 0;
  int port_ = 0;
  std::optional<rlim_t> nofile_limit_;
  std::optional<rlim_t> file_size_limit_;
  bool pipe_stderr_ = false;
  int stderr_pipe_ = -1;              // our (non-blocking) read end, with pipe_stderr()
  mutable std::string stderr_piped_;  // what was read from it
  std::optional<std::pair<uid_t, gid_t>> user_;
  std::vector<std::string> wrapper_;
};

}  // namespace cork::integration
