// Finding a file for a request target under the document root, without ever leaving it:
// openat2(RESOLVE_BENEATH) where the kernel has it (symlinks are followed only while they stay
// inside the root), else a component-by-component walk with O_NOFOLLOW (no symlinks at all).
// Which of the two is the process's choice (OpenMethod), made once at start-up.
#pragma once

#include <sys/stat.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "http/directory_listing.h"
#include "http/target_path.h"
#include "server/config.h"
#include "server/unique_fd.h"

namespace cork {

// How open_beneath() keeps to the root. kWalk follows no symlink under SymlinkPolicy::kInside
// or kOff (stricter, never looser); kOn follows every symlink either way.
enum class OpenMethod { kOpenat2, kWalk };

// Tries openat2(RESOLVE_BENEATH) on `root_fd` itself: kWalk when the kernel lacks it (ENOSYS)
// or a seccomp filter refuses it (EPERM: the default profiles of older container runtimes,
// which would otherwise make every file 403). Sets `err` to that errno (0 for kOpenat2).
OpenMethod probe_open_method(int root_fd, int& err);

// The method of every later open_beneath() in this process: a kernel or seccomp filter is the
// process's, not a root's. Set at start-up before the workers run (server.cc); safe to call
// from any thread. kOpenat2 until set; an ENOSYS at run time still switches to kWalk.
void set_open_method(OpenMethod method);
OpenMethod open_method();

// Move-only (owns the file descriptor).
struct FileLookup {
  int status = 500;  // 200, 301, 403, 404, 500 or 503
  int error = 0;     // the errno behind a 403, 404, 500 or 503 from an open (EMFILE: 503)
  UniqueFd file;     // open, read-only, for 200
  struct stat info {};
  std::string location;  // for 301: the slashed URL, query kept
  std::string path;      // the path that was opened (for MIME lookup), relative to the root
  // 403 because a directory has no index file: the directory, relative to the root ("" = root).
  bool directory_without_index = false;
};

// One precompressed representation beside a file (file.br, file.gz). Move-only.
struct Variant {
  UniqueFd file;
  struct stat info {};
};

// Opens `relative` + `suffix` beneath the root when it is a regular file whose modification time
// is not older than `original`'s. False (and `out` untouched) otherwise.
bool open_variant(int root_fd, std::string_view relative, std::string_view suffix,
                  const struct stat& original, SymlinkPolicy symlinks, Variant& out);

// Whether the directory `relative` beneath the root may hold a name ending in one of
// `suffixes`: true when one does, and also when the directory cannot be read or holds more than
// `max_names` names (the caller then probes for each file as if it did). One open and a few
// getdents64 calls; names only, no stat.
bool directory_may_hold_suffixes(int root_fd, std::string_view relative, SymlinkPolicy symlinks,
                                 std::initializer_list<std::string_view> suffixes,
                                 std::size_t max_names);

// Reads the entries of the directory `relative` beneath the root for a listing: regular files and
// directories (symlinks only when they resolve beneath the root), without "." and "..".
// Returns 0 or an errno value.
int read_directory(int root_fd, std::string_view relative, SymlinkPolicy symlinks,
                   std::vector<ListingEntry>& out);

// Opens `relative` (no leading '/', "" = the root itself, never a ".." segment) beneath
// `root_fd`, following symlinks as `symlinks` says. Returns 0 and sets `out`, or an errno value
// (EXDEV/ELOOP when a symlink is refused).
int open_beneath(int root_fd, std::string_view relative, SymlinkPolicy symlinks, UniqueFd& out);

// Resolves a validated target (status 0) to a regular file: directories with a trailing '/'
// serve `index`, directories without one get 301 to the normalized path re-encoded (never
// "//host"), missing files 404, directories without an index, unreadable files, special files
// (FIFOs, sockets, devices) and symlinks out of the root 403.
FileLookup lookup_file(int root_fd, const Target& target, std::string_view index,
                       SymlinkPolicy symlinks);

}  // namespace cork
