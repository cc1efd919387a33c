// static_file: open a request's file beneath the root. All the file-system calls of request
// handling live here.
#include "server/static_file.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace cork {

namespace {

constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

std::atomic<bool> g_openat2_missing{false};  // set once if the kernel lacks openat2 (ENOSYS)

int open_with_openat2(int root_fd, const std::string& rel, UniqueFd& out) {
  open_how how{};
  how.flags = kOpenFlags;
  // RESOLVE_BENEATH: ".." and symlinks may not leave root_fd (absolute symlinks are refused).
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    const long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
    if (fd >= 0) {
      out.reset(static_cast<int>(fd));
      return 0;
    }
    if (errno == EINTR || errno == EAGAIN) continue;  // EAGAIN: a concurrent rename; retry
    return errno;
  }
}

// Fallback for kernels without openat2: walk the components with O_NOFOLLOW, so no symlink is
// ever followed. The target was already normalized (no "." or ".." segments).
int open_by_walking(int root_fd, std::string_view rel, UniqueFd& out) {
  UniqueFd dir;
  int at = root_fd;
  while (true) {
    const std::size_t slash = rel.find('/');
    const std::string part(rel.substr(0, slash));
    const bool last = slash == std::string_view::npos;
    const int flags =
        last ? (kOpenFlags | O_NOFOLLOW) : (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int fd;
    do {
      fd = ::openat(at, part.c_str(), flags);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return errno;
    if (last) {
      out.reset(fd);
      return 0;
    }
    dir.reset(fd);
    at = dir.get();
    rel.remove_prefix(slash + 1);
  }
}

}  // namespace

int open_beneath(int root_fd, std::string_view relative, UniqueFd& out) {
  const std::string rel = relative.empty() ? std::string(".") : std::string(relative);
  if (!g_openat2_missing.load(std::memory_order_relaxed)) {
    const int err = open_with_openat2(root_fd, rel, out);
    if (err != ENOSYS) return err;
    g_openat2_missing.store(true, std::memory_order_relaxed);
  }
  return open_by_walking(root_fd, rel, out);
}

namespace {

int status_for_errno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
      return 404;
    case EACCES:
    case EPERM:
    case EXDEV:  // RESOLVE_BENEATH: the path or a symlink leaves the root
    case ELOOP:  // a symlink loop, or O_NOFOLLOW met a symlink
      return 403;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return 503;
    default:
      return 500;
  }
}

}  // namespace

FileLookup lookup_file(int root_fd, const Target& target, std::string_view index) {
  FileLookup result;
  std::string_view rel = target.path;
  while (!rel.empty() && rel.front() == '/')
    rel.remove_prefix(1);
  const bool directory_form = target.path.empty() || target.path.back() == '/';
  while (!rel.empty() && rel.back() == '/')
    rel.remove_suffix(1);

  result.path = rel;
  int err = open_beneath(root_fd, rel, result.file);
  if (err != 0) {
    result.status = status_for_errno(err);
    return result;
  }
  if (::fstat(result.file.get(), &result.info) != 0) {
    result.status = 500;
    result.file.reset();
    return result;
  }
  if (S_ISDIR(result.info.st_mode)) {
    result.file.reset();
    if (!directory_form) {
      result.status = 301;
      result.location = target.raw_path + "/";
      if (target.has_query) result.location += "?" + target.query;
      return result;
    }
    result.path = rel.empty() ? std::string(index) : std::string(rel) + "/" + std::string(index);
    err = open_beneath(root_fd, result.path, result.file);
    if (err != 0) {
      // A directory without an index is forbidden, not missing (the directory exists).
      result.status = (err == ENOENT) ? 403 : status_for_errno(err);
      return result;
    }
    if (::fstat(result.file.get(), &result.info) != 0) {
      result.status = 500;
      result.file.reset();
      return result;
    }
  } else if (directory_form) {
    // "/file.txt/" names a directory that is a file.
    result.file.reset();
    result.status = 404;
    return result;
  }
  if (!S_ISREG(result.info.st_mode)) {
    // FIFOs, sockets and devices are never served (opened O_NONBLOCK, so opening did not block).
    result.file.reset();
    result.status = 403;
    return result;
  }
  result.status = 200;
  return result;
}

}  // namespace cork
