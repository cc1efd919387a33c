// static_file: open a request's file beneath the root. All the file-system calls of request
// handling live here.
#include "server/static_file.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dirent.h>

#include <atomic>
#include <cerrno>

namespace cork {

namespace {

constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

// The process's OpenMethod (see set_open_method): the kernel and its seccomp filter are
// process-wide, so this is the one piece of global state here. Relaxed: either value is safe on
// its own and nothing else is published with it.
std::atomic<bool> g_walk{false};

int open_with_openat2(int root_fd, const char* rel, SymlinkPolicy symlinks, UniqueFd& out) {
  open_how how{};
  how.flags = kOpenFlags;
  // RESOLVE_BENEATH: ".." and symlinks may not leave root_fd (absolute symlinks are refused);
  // the kernel checks it while resolving, so a symlink swapped in meanwhile cannot escape.
  switch (symlinks) {
    case SymlinkPolicy::kInside:
      how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
      break;
    case SymlinkPolicy::kOff:
      how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
      break;
    case SymlinkPolicy::kOn:
      // The operator trusts every symlink under the root; the path itself has no "..".
      how.resolve = RESOLVE_NO_MAGICLINKS;
      break;
  }
  for (;;) {
    const long fd = ::syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
    if (fd >= 0) {
      out.reset(static_cast<int>(fd));
      return 0;
    }
    if (errno == EINTR || errno == EAGAIN) continue;  // EAGAIN: a concurrent rename; retry
    return errno;
  }
}

// Fallback for kernels without openat2: walk the components with O_NOFOLLOW, so no symlink is
// ever followed (kInside then behaves as kOff: stricter, never looser). The target was already
// normalized (no "." or ".." segments).
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
    if (fd < 0) {
      const int err = errno;
      // O_DIRECTORY | O_NOFOLLOW on a symlink says ENOTDIR (404); it is a refused symlink, 403
      // as openat2's RESOLVE_NO_SYMLINKS says (ELOOP).
      struct stat info {};
      if (err == ENOTDIR && ::fstatat(at, part.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(info.st_mode)) {
        return ELOOP;
      }
      return err;
    }
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

OpenMethod probe_open_method(int root_fd, int& err) {
  UniqueFd probe;
  err = open_with_openat2(root_fd, ".", SymlinkPolicy::kInside, probe);
  if (err == ENOSYS || err == EPERM) return OpenMethod::kWalk;
  err = 0;  // any other failure is the root's, and the start-up open of the root reports it
  return OpenMethod::kOpenat2;
}

void set_open_method(OpenMethod method) {
  g_walk.store(method == OpenMethod::kWalk, std::memory_order_relaxed);
}

OpenMethod open_method() {
  return g_walk.load(std::memory_order_relaxed) ? OpenMethod::kWalk : OpenMethod::kOpenat2;
}

int open_beneath(int root_fd, std::string_view relative, SymlinkPolicy symlinks, UniqueFd& out) {
  if (relative.empty()) relative = ".";
  // NUL-terminated for the kernel: on the stack unless it is long.
  char short_path[256];
  std::string long_path;
  const char* rel = short_path;
  if (relative.size() < sizeof short_path) {
    relative.copy(short_path, relative.size());
    short_path[relative.size()] = '\0';
  } else {
    long_path.assign(relative);
    rel = long_path.c_str();
  }
  if (!g_walk.load(std::memory_order_relaxed)) {
    const int err = open_with_openat2(root_fd, rel, symlinks, out);
    if (err != ENOSYS) return err;
    g_walk.store(true, std::memory_order_relaxed);  // a kernel without openat2 after all
  }
  if (symlinks == SymlinkPolicy::kOn) {
    for (;;) {
      const int fd = ::openat(root_fd, rel, kOpenFlags);
      if (fd >= 0) {
        out.reset(fd);
        return 0;
      }
      if (errno != EINTR) return errno;
    }
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
    case ENXIO:  // a socket file (or a device without its driver): never served, as a FIFO
    case ENODEV:
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

FileLookup lookup_file(int root_fd, const Target& target, std::string_view index,
                       SymlinkPolicy symlinks) {
  FileLookup result;
  std::string_view rel = target.path;
  while (!rel.empty() && rel.front() == '/')
    rel.remove_prefix(1);
  const bool directory_form = target.path.empty() || target.path.back() == '/';
  while (!rel.empty() && rel.back() == '/')
    rel.remove_suffix(1);

  result.path = rel;
  int err = open_beneath(root_fd, rel, symlinks, result.file);
  if (err != 0) {
    result.status = status_for_errno(err);
    result.error = err;
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
      result.location = encode_path(target.path) + "/";
      if (target.has_query) result.location += "?" + target.query;
      return result;
    }
    result.path = rel.empty() ? std::string(index) : std::string(rel) + "/" + std::string(index);
    err = open_beneath(root_fd, result.path, symlinks, result.file);
    if (err != 0) {
      // A directory without an index is forbidden, not missing (the directory exists).
      result.status = (err == ENOENT) ? 403 : status_for_errno(err);
      result.error = err;
      if (err == ENOENT) {
        result.directory_without_index = true;
        result.path = rel;
      }
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

bool open_variant(int root_fd, std::string_view relative, std::string_view suffix,
                  const struct stat& original, SymlinkPolicy symlinks, Variant& out) {
  std::string path(relative);
  path += suffix;
  UniqueFd file;
  if (open_beneath(root_fd, path, symlinks, file) != 0) return false;
  struct stat info {};
  if (::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode)) return false;
  // A stale sibling (older than the file it compresses) is never served.
  const bool older = info.st_mtim.tv_sec < original.st_mtim.tv_sec ||
                     (info.st_mtim.tv_sec == original.st_mtim.tv_sec &&
                      info.st_mtim.tv_nsec < original.st_mtim.tv_nsec);
  if (older) return false;
  out.file = std::move(file);
  out.info = info;
  return true;
}

bool directory_may_hold_suffixes(int root_fd, std::string_view relative, SymlinkPolicy symlinks,
                                 std::initializer_list<std::string_view> suffixes,
                                 std::size_t max_names) {
  UniqueFd dir;
  if (open_beneath(root_fd, relative, symlinks, dir) != 0) return true;
  alignas(dirent64) char buffer[16 * 1024];
  std::size_t names = 0;
  for (;;) {
    const ssize_t n = ::getdents64(dir.get(), buffer, sizeof buffer);
    if (n == 0) return false;  // every name read, none matched
    if (n < 0) {
      if (errno == EINTR) continue;
      return true;  // ENOTDIR (a file now), EIO, ...: the caller probes
    }
    for (ssize_t at = 0; at < n;) {
      const auto* entry = reinterpret_cast<const dirent64*>(buffer + at);
      at += entry->d_reclen;
      if (++names > max_names) return true;
      const std::string_view name = entry->d_name;
      for (const std::string_view suffix : suffixes) {
        if (name.size() > suffix.size() && name.ends_with(suffix)) return true;
      }
    }
  }
}

int read_directory(int root_fd, std::string_view relative, SymlinkPolicy symlinks,
                   std::vector<ListingEntry>& out) {
  UniqueFd dir_fd;
  if (const int err = open_beneath(root_fd, relative, symlinks, dir_fd); err != 0) return err;
  // fdopendir takes ownership of the descriptor it is given: give it a duplicate so that
  // dir_fd stays the one owner of its own.
  const int dup_fd = ::fcntl(dir_fd.get(), F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return errno;
  DIR* dir = ::fdopendir(dup_fd);
  if (dir == nullptr) {
    const int err = errno;
    ::close(dup_fd);
    return err;
  }
  std::string base(relative);
  if (!base.empty()) base += '/';
  int err = 0;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      err = errno;
      break;
    }
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat info {};
    if (::fstatat(dir_fd.get(), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISLNK(info.st_mode)) {
      // Listed only as what it would serve: a target beneath the root.
      UniqueFd target;
      if (open_beneath(root_fd, base + std::string(name), symlinks, target) != 0) continue;
      if (::fstat(target.get(), &info) != 0) continue;
    }
    if (!S_ISREG(info.st_mode) && !S_ISDIR(info.st_mode)) continue;
    ListingEntry e;
    e.name = name;
    e.is_directory = S_ISDIR(info.st_mode);
    e.size = e.is_directory ? 0 : static_cast<std::uint64_t>(info.st_size);
    e.mtime = info.st_mtime;
    out.push_back(std::move(e));
  }
  ::closedir(dir);
  return err;
}

}  // namespace cork
