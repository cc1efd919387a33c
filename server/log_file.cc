// LogFile: opening a log for appending, switching to it atomically, and writing whole lines.
#include "server/log_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "server/io.h"

namespace cork {

namespace {

constexpr int kAppend = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY;

std::string open_error(const std::string& path, int error) {
  return fmt::format("cannot open log file {}: {}", path, std::strerror(error));
}

// Opens `path` for appending, creating it (0644) when it does not exist; `created` says whether
// this call did. The descriptor, or an empty one with errno set.
UniqueFd open_for_append(const std::string& path, int extra_flags, bool& created) {
  created = false;
  for (;;) {
    UniqueFd fd(::open(path.c_str(), kAppend | extra_flags));
    if (fd || errno != ENOENT) return fd;
    // O_EXCL tells us whether we created it, so that a refused switch can remove it again.
    UniqueFd made(::open(path.c_str(), kAppend | extra_flags | O_CREAT | O_EXCL, 0644));
    if (made) {
      created = true;
      return made;
    }
    if (errno != EEXIST) return made;  // someone else created it in between: open that one
  }
}

// Writes all of `bytes`, waiting while `fd` is full. The bytes written go to `written`.
IoResult write_fully(int fd, std::string_view bytes, std::size_t& written) {
  written = 0;
  while (written < bytes.size()) {
    const IoResult r = write_some(fd, bytes.data() + written, bytes.size() - written);
    if (r.ok()) {
      written += r.bytes;
    } else if (r.status != IoResult::Status::kWouldBlock || !wait_writable(fd)) {
      return r;
    }
  }
  return {IoResult::Status::kOk, written, 0};
}

bool is_file(int fd, dev_t device, ino_t inode) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && st.st_dev == device && st.st_ino == inode;
}

}  // namespace

void LogFile::Opened::discard() {
  fd_.reset();
  if (created_) (void)::unlink(path_.c_str());
  created_ = false;
}

bool LogFile::open(const std::string& path, Opened& out, std::string& error) const {
  out = Opened{};
  out.path_ = path;
  if (path == "-") {
    out.fd_.reset(::fcntl(standard_, F_DUPFD_CLOEXEC, 0));
    if (!out.fd_) {
      error = fmt::format("cannot duplicate fd {}: {}", standard_, std::strerror(errno));
      return false;
    }
    return true;  // not ours to truncate, whatever it is
  }
  out.fd_ = open_for_append(path, 0, out.created_);
  if (!out.fd_) {
    error = open_error(path, errno);
    return false;
  }
  struct stat st {};
  out.own_file_ = ::fstat(out.fd_.get(), &st) == 0 && S_ISREG(st.st_mode);
  return true;
}

bool LogFile::check(const std::string& path, std::string& error) {
  if (path == "-") return true;
  bool created = false;
  // O_NONBLOCK: a FIFO without a reader fails with ENXIO at once instead of waiting for one.
  const UniqueFd fd = open_for_append(path, O_NONBLOCK, created);
  if (!fd) {
    if (errno == ENXIO) return true;
    error = open_error(path, errno);
    return false;
  }
  if (created) (void)::unlink(path.c_str());
  return true;
}

void LogFile::switch_to(Opened&& opened) {
  assert(opened.fd_);
  if (!fd_) {
    fd_ = std::move(opened.fd_);
    fd_number_.store(fd_.get(), std::memory_order_release);
  } else {
    // Atomically replaces the open file behind our number; writers never see a closed number.
    // EBUSY is a race with open() in another thread that cannot hit a number already in use;
    // EBADF and EINVAL would be bugs here.
    int result;
    do {
      result = ::dup3(opened.fd_.get(), fd_.get(), O_CLOEXEC);
    } while (result < 0 && (errno == EINTR || errno == EBUSY));
    assert(result >= 0);
    opened.fd_.reset();
  }
  own_file_.store(opened.own_file_, std::memory_order_relaxed);
  opened.created_ = false;  // switched to: no longer ours to remove
}

LogFile::Failure LogFile::write_lines(std::string_view lines) {
  std::lock_guard lock(write_mutex_);
  const int number = fd_number_.load(std::memory_order_acquire);
  const int fd = number >= 0 ? number : standard_;
  Failure failure;
  std::size_t written = 0;
  if (unterminated_) {
    // Only where the fragment is: after a switch the new file starts clean.
    if (is_file(fd, unterminated_device_, unterminated_inode_)) {
      const IoResult r = write_fully(fd, "\n", written);
      if (!r.ok()) {
        failure.lines = static_cast<std::size_t>(std::count(lines.begin(), lines.end(), '\n'));
        failure.error = r.error;
        return failure;
      }
    }
    unterminated_ = false;
  }
  const IoResult r = write_fully(fd, lines, written);
  if (r.ok()) return failure;
  failure.error = r.error;
  const std::string_view rest = lines.substr(written);
  failure.lines = static_cast<std::size_t>(std::count(rest.begin(), rest.end(), '\n'));
  const std::size_t last_newline =
      written == 0 ? std::string_view::npos : lines.rfind('\n', written - 1);
  const std::size_t fragment =
      last_newline == std::string_view::npos ? written : written - last_newline - 1;
  if (fragment == 0 || take_back(fd, fragment)) return failure;
  struct stat st {};
  if (::fstat(fd, &st) == 0) {
    unterminated_ = true;
    unterminated_device_ = st.st_dev;
    unterminated_inode_ = st.st_ino;
  }
  return failure;
}

bool LogFile::take_back(int fd, std::size_t fragment) const {
  if (!own_file_.load(std::memory_order_relaxed)) return false;
  // With O_APPEND the offset is the end of what our write put there. Only cork's log thread
  // writes this file, but another process may append to it too: when the file has grown past
  // our fragment, the fragment is no longer at the end and stays (ended by a newline instead).
  const off_t end = ::lseek(fd, 0, SEEK_CUR);
  struct stat st {};
  const auto size = static_cast<off_t>(fragment);
  if (end < size || ::fstat(fd, &st) != 0 || st.st_size != end) return false;
  return ::ftruncate(fd, end - size) == 0;
}

}  // namespace cork
