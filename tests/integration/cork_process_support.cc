// Integration-test support: starting and stopping the cork binary (see cork_process_support.h).
#include "integration/cork_process_support.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <thread>

#include "server/address.h"

#ifndef CORK_BINARY
#error "CORK_BINARY must name the cork binary (tests/CMakeLists.txt defines it)"
#endif

extern char** environ;

namespace cork::integration {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kPollInterval{10};
constexpr std::chrono::seconds kStartTimeout{10};

// Starts cork with stdin from /dev/null and stdout/stderr to files (stderr to `err_fd` instead
// when it is not -1). The child gets default dispositions for the signals it must handle itself
// and an empty signal mask, whatever the test process did. Returns the PID, or -1 with `error`
// set.
pid_t spawn_cork(const std::vector<std::string>& wrapper, const std::vector<std::string>& args,
                 const fs::path& out, const fs::path& err, std::string& error, int err_fd = -1) {
  std::vector<std::string> strings = wrapper;
  strings.emplace_back(cork_binary());
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : strings)
    argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (err_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int signal : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGXFSZ})
    sigaddset(&defaults, signal);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  sigset_t mask;
  sigemptyset(&mask);
  posix_spawnattr_setsigmask(&attributes, &mask);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  pid_t pid = -1;
  int result = posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (result != 0) {
    error = std::string("posix_spawn ") + argv[0] + ": " + std::strerror(result);
    return -1;
  }
  return pid;
}

// What spawn_cork_forked() does in the child besides redirecting and resetting signals.
struct ChildSetup {
  std::optional<rlim_t> nofile_limit;
  std::optional<std::pair<uid_t, gid_t>> user;
  std::optional<rlim_t> file_size_limit;
};

// The child side of spawn_cork_forked(): only async-signal-safe calls (the test process has
// threads). A failure writes the step and errno to `report` and exits 127.
[[noreturn]] void exec_child(char* const* argv, const char* out, const char* err,
                             const ChildSetup& setup, int report) {
  auto fail = [report](int step) {
    const int info[2] = {step, errno};
    (void)!::write(report, info, sizeof info);
    ::_exit(127);
  };
  const int in_fd = ::open("/dev/null", O_RDONLY);
  const int out_fd = ::open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err_fd = ::open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in_fd < 0 || out_fd < 0 || err_fd < 0) fail(1);
  if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) fail(2);
  for (int fd : {in_fd, out_fd, err_fd}) {
    if (fd > 2) ::close(fd);
  }
  struct sigaction defaults {};
  defaults.sa_handler = SIG_DFL;
  for (int signal : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGXFSZ})
    ::sigaction(signal, &defaults, nullptr);
  sigset_t mask;
  sigemptyset(&mask);
  ::sigprocmask(SIG_SETMASK, &mask, nullptr);
  if (setup.nofile_limit) {
    const rlimit limit{*setup.nofile_limit, *setup.nofile_limit};
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) fail(3);
  }
  if (setup.file_size_limit) {
    const rlimit limit{*setup.file_size_limit, *setup.file_size_limit};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) fail(3);
  }
  if (setup.user) {
    // Group first: once the user is unprivileged it may not change its groups any more.
    const gid_t gid = setup.user->second;
    if (::setgroups(1, &gid) != 0 || ::setgid(gid) != 0) fail(4);
    if (::setuid(setup.user->first) != 0) fail(5);
  }
  ::execve(argv[0], argv, environ);
  fail(6);
  ::_exit(127);  // not reached: fail() exits
}

// Like spawn_cork(), with fork() and exec() so that the child can be set up first. The exec (or
// the step that failed) is reported through a close-on-exec pipe: end of file means it ran.
pid_t spawn_cork_forked(const std::vector<std::string>& args, const fs::path& out,
                        const fs::path& err, const ChildSetup& setup, std::string& error) {
  // Everything the child needs is allocated before fork().
  std::vector<std::string> strings;
  strings.emplace_back(cork_binary());
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : strings)
    argv.push_back(s.data());
  argv.push_back(nullptr);
  const std::string out_path = out.string();
  const std::string err_path = err.string();

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    error = std::string("pipe2: ") + std::strerror(errno);
    return -1;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    ::close(report[0]);
    ::close(report[1]);
    return -1;
  }
  if (pid == 0) {
    ::close(report[0]);
    exec_child(argv.data(), out_path.c_str(), err_path.c_str(), setup, report[1]);
  }
  ::close(report[1]);
  int info[2] = {0, 0};
  ssize_t n;
  do {
    n = ::read(report[0], info, sizeof info);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n <= 0) return pid;  // exec succeeded
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  static constexpr const char* kSteps[] = {"?",      "open files", "dup2",  "setrlimit",
                                           "setgid", "setuid",     "execve"};
  const int step = info[0] >= 1 && info[0] <= 6 ? info[0] : 0;
  error = std::string("starting ") + argv[0] + ": " + kSteps[step] + ": " + std::strerror(info[1]);
  return -1;
}

std::string read_if_present(const fs::path& path) {
  std::error_code ignored;
  if (!fs::exists(path, ignored)) return "";
  return read_file(path);
}

// Polls waitpid() until `pid` exits or `deadline`. True (and `status` set) when it exited.
bool wait_until(pid_t pid, int& status, Clock::time_point deadline) {
  for (;;) {
    pid_t result = ::waitpid(pid, &status, WNOHANG);
    if (result == pid) return true;
    if (result < 0 && errno != EINTR) {
      status = 0;
      return true;  // not our child any more; nothing left to wait for
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace

const char* cork_binary() {
  return CORK_BINARY;
}

std::string describe_wait_status(int status) {
  std::ostringstream out;
  if (WIFEXITED(status)) {
    out << "exited with status " << WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    out << "killed by signal " << WTERMSIG(status) << " (" << strsignal(WTERMSIG(status)) << ")";
  } else {
    out << "wait status " << status;
  }
  return out.str();
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

bool RunResult::exited_with(int code) const {
  return !timed_out && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == code;
}

bool RunResult::exited_nonzero() const {
  return !timed_out && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) != 0;
}

RunResult run_cork(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  TempDir capture;
  fs::path out = capture.path() / "stdout";
  fs::path err = capture.path() / "stderr";
  RunResult result;
  std::string error;
  pid_t pid = spawn_cork({}, args, out, err, error);
  if (pid < 0) {
    result.err = error;
    result.wait_status = 127 << 8;
    return result;
  }
  if (!wait_until(pid, result.wait_status, Clock::now() + timeout)) {
    result.timed_out = true;
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &result.wait_status, 0) < 0 && errno == EINTR) {
    }
  }
  result.out = read_if_present(out);
  result.err = read_if_present(err);
  return result;
}

CorkProcess::CorkProcess() : root_(dir_.make_dir("root")) {
  set("server", "host", "127.0.0.1");
  set("server", "port", "0");
  set("server", "root", root_.string());
  set("log", "access_log", "off");
  set("log", "error_log", "-");
}

CorkProcess::~CorkProcess() {
  if (stderr_pipe_ >= 0) ::close(stderr_pipe_);
  if (pid_ <= 0 || reaped_) return;
  // Only our own child, by PID; it cannot have been reused while it is unreaped.
  ::kill(pid_, SIGTERM);
  if (wait_until(pid_, wait_status_, Clock::now() + std::chrono::seconds(5))) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, &wait_status_, 0) < 0 && errno == EINTR) {
  }
}

void CorkProcess::set(const std::string& section, const std::string& key, std::string value) {
  config_[section][key] = std::move(value);
}

fs::path CorkProcess::put(std::string_view relative, std::string_view content) const {
  fs::path full = root_ / relative;
  write_file(full, content);
  return full;
}

void CorkProcess::set_nofile_limit(rlim_t limit) {
  nofile_limit_ = limit;
}

void CorkProcess::set_file_size_limit(rlim_t bytes) {
  file_size_limit_ = bytes;
}

void CorkProcess::run_as(uid_t uid, gid_t gid) {
  user_ = std::make_pair(uid, gid);
}

std::size_t CorkProcess::stderr_count(std::string_view needle) const {
  const std::string text = stderr_text();
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); !needle.empty() && at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

::testing::AssertionResult CorkProcess::wait_for_stderr(std::string_view needle,
                                                        std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (stderr_text().find(needle) != std::string::npos) return ::testing::AssertionSuccess();
    if (Clock::now() >= deadline) {
      return ::testing::AssertionFailure()
             << "\"" << needle << "\" did not appear in cork's stderr within " << timeout.count()
             << " ms; stderr: " << printable(stderr_text(), 2000);
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::size_t CorkProcess::open_fds() const {
  if (pid_ <= 0) return 0;
  std::error_code error;
  std::size_t count = 0;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid_) + "/fd", error), end;
       !error && it != end; it.increment(error)) {
    ++count;
  }
  return count;
}

std::size_t CorkProcess::open_sockets() const {
  if (pid_ <= 0) return 0;
  std::error_code error;
  std::size_t count = 0;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid_) + "/fd", error), end;
       !error && it != end; it.increment(error)) {
    std::error_code unreadable;  // closed since it was listed
    const fs::path target = fs::read_symlink(it->path(), unreadable);
    if (!unreadable && target.native().rfind("socket:", 0) == 0) ++count;
  }
  return count;
}

namespace {

// Field `field` (proc(5) numbering, at least 3) of a /proc/PID/task/TID/stat file, or "".
std::string stat_field(const fs::path& stat_path, int field) {
  std::ifstream in(stat_path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // "tid (comm) S ...": comm may contain spaces and parentheses; field 3 follows the last ')'.
  const std::size_t paren = text.rfind(')');
  if (paren == std::string::npos || paren + 2 >= text.size()) return "";
  std::istringstream fields(text.substr(paren + 2));
  std::string value;
  for (int i = 3; i <= field; ++i) {
    if (!(fields >> value)) return "";
  }
  return value;
}

}  // namespace

std::vector<std::string> CorkProcess::thread_stat_fields(int field) const {
  std::vector<std::string> values;
  std::error_code error;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid_) + "/task", error), end;
       !error && it != end; it.increment(error)) {
    values.push_back(stat_field(it->path() / "stat", field));
  }
  if (error) values.clear();
  return values;
}

::testing::AssertionResult CorkProcess::pause() {
  if (!running()) return ::testing::AssertionFailure() << "cork is not running";
  ::kill(pid_, SIGSTOP);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  for (;;) {
    const std::vector<std::string> states = thread_stat_fields(3);
    const bool all_stopped =
        !states.empty() && std::all_of(states.begin(), states.end(),
                                       [](const std::string& s) { return s == "T" || s == "t"; });
    if (all_stopped) return ::testing::AssertionSuccess();
    if (Clock::now() >= deadline) {
      ::kill(pid_, SIGCONT);
      return ::testing::AssertionFailure() << "cork's threads did not all stop within 5 s";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void CorkProcess::resume() {
  if (pid_ > 0 && !reaped_) ::kill(pid_, SIGCONT);
}

std::string CorkProcess::stderr_text() const {
  if (stderr_pipe_ < 0) return read_if_present(dir_.path() / "stderr.log");
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(stderr_pipe_, buffer, sizeof buffer);
    if (n > 0) {
      stderr_piped_.append(buffer, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // empty for now (EAGAIN), or the end: cork has exited
    }
  }
  return stderr_piped_;
}

std::string CorkProcess::stdout_text() const {
  return read_if_present(dir_.path() / "stdout.log");
}

::testing::AssertionResult CorkProcess::start(const std::vector<std::string>& extra_args) {
  if (pid_ > 0) return ::testing::AssertionFailure() << "already started";
  std::string text;
  for (const auto& [section, keys] : config_) {
    text += "[" + section + "]\n";
    for (const auto& [key, value] : keys)
      text += key + " = " + value + "\n";
  }
  write_file(config_path(), text);

  std::vector<std::string> args = {"-c", config_path().string()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::string error;
  const bool forked = nofile_limit_ || file_size_limit_ || user_;
  if (forked && (!wrapper_.empty() || pipe_stderr_)) {
    return ::testing::AssertionFailure()
           << "run_under() and pipe_stderr() cannot be combined with limits or users";
  }
  if (forked) {
    if (user_) {
      // The user must be able to reach its config and the document root (mkdtemp made 0700).
      std::error_code failed;
      for (const fs::path& path : {dir_.path(), root_}) {
        fs::permissions(path, fs::perms(0755), fs::perm_options::replace, failed);
        if (failed) {
          return ::testing::AssertionFailure()
                 << "chmod 0755 " << path.string() << ": " << failed.message();
        }
      }
    }
    pid_ = spawn_cork_forked(args, dir_.path() / "stdout.log", dir_.path() / "stderr.log",
                             ChildSetup{nofile_limit_, user_, file_size_limit_}, error);
  } else if (pipe_stderr_) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) {
      return ::testing::AssertionFailure() << "pipe2: " << std::strerror(errno);
    }
    ::fcntl(ends[0], F_SETFL, O_NONBLOCK);
    stderr_pipe_ = ends[0];
    pid_ = spawn_cork(wrapper_, args, dir_.path() / "stdout.log", dir_.path() / "stderr.log", error,
                      ends[1]);
    ::close(ends[1]);  // the child has its copy: the end of the file is cork's exit
  } else {
    pid_ =
        spawn_cork(wrapper_, args, dir_.path() / "stdout.log", dir_.path() / "stderr.log", error);
  }
  if (pid_ < 0) return ::testing::AssertionFailure() << error;

  auto deadline = Clock::now() + kStartTimeout;
  for (;;) {
    std::string err = stderr_text();
    std::size_t at = err.find("listening on ");
    std::size_t line_end = at == std::string::npos ? at : err.find('\n', at);
    if (line_end != std::string::npos) {
      std::string address = err.substr(at + 13, line_end - at - 13);
      address = address.substr(0, address.find_first_of(" \t\r"));
      // "127.0.0.1:8080" or "[::1]:8080", as format_host_port writes it.
      HostPort split;
      std::string ignored;
      const std::optional<int> port = split_host_port(address, split, ignored) && split.has_port
                                          ? parse_port(split.port)
                                          : std::nullopt;
      port_ = port.value_or(0);
      if (port_ <= 0) {
        return ::testing::AssertionFailure()
               << "cannot parse the port of \"listening on " << address << "\"";
      }
      return ::testing::AssertionSuccess();
    }
    if (!running()) {
      return ::testing::AssertionFailure()
             << "cork " << describe_wait_status(wait_status_)
             << " before listening; stderr: " << printable(stderr_text(), 2000);
    }
    if (Clock::now() >= deadline) {
      return ::testing::AssertionFailure()
             << "cork did not log \"listening on\" within " << kStartTimeout.count()
             << " s; stderr: " << printable(stderr_text(), 2000);
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

bool CorkProcess::running() {
  if (pid_ <= 0 || reaped_) return false;
  int status = 0;
  pid_t result = ::waitpid(pid_, &status, WNOHANG);
  if (result == pid_) {
    reaped_ = true;
    wait_status_ = status;
    return false;
  }
  return true;
}

::testing::AssertionResult CorkProcess::wait_exit(int& wait_status,
                                                  std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return ::testing::AssertionFailure() << "not started";
  if (!reaped_) {
    if (!wait_until(pid_, wait_status_, Clock::now() + timeout)) {
      return ::testing::AssertionFailure()
             << "cork still running after " << timeout.count() << " ms";
    }
    reaped_ = true;
  }
  wait_status = wait_status_;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult CorkProcess::stop(int signal, int& wait_status,
                                             std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return ::testing::AssertionFailure() << "not started";
  if (!running()) {
    return ::testing::AssertionFailure()
           << "cork had already " << describe_wait_status(wait_status_) << " before signal "
           << signal;
  }
  ::kill(pid_, signal);
  return wait_exit(wait_status, timeout);
}

}  // namespace cork::integration
