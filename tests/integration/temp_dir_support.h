// Integration-test support: a temporary directory that disappears with everything in it, and the
// file helpers the tests use to build a document root. Knows nothing of HTTP or of cork.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <string>
#include <string_view>

namespace cork::integration {

// Neither copyable nor movable: exactly one object removes the directory.
class TempDir {
 public:
  // Creates a fresh directory under the system temp dir; throws std::runtime_error on failure.
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes `content` to path()/relative, creating the parent directories. Returns the full path.
  std::filesystem::path write_file(std::string_view relative, std::string_view content) const;
  // Creates path()/relative and its parents. Returns the full path.
  std::filesystem::path make_dir(std::string_view relative) const;

 private:
  std::filesystem::path path_;
};

// Writes a whole file (creating parent directories); throws std::runtime_error on failure.
void write_file(const std::filesystem::path& path, std::string_view content);
// Reads a whole file; throws std::runtime_error when it cannot be opened.
std::string read_file(const std::filesystem::path& path);
// Sets a file's modification time (seconds since the epoch, plus nanoseconds); throws on failure.
void set_mtime(const std::filesystem::path& path, std::time_t seconds, long nanoseconds = 0);

// `size` bytes of a deterministic pseudo-random pattern (xorshift64*), different per `seed`.
std::string pseudo_random_bytes(std::size_t size, std::uint64_t seed);

// "" when equal; otherwise where the two first differ and their sizes, without printing
// megabytes of binary into the test log.
std::string first_difference(std::string_view expected, std::string_view actual);

// `text` with control and non-ASCII bytes escaped, cut to `limit` bytes: for failure messages.
std::string printable(std::string_view text, std::size_t limit = 400);

}  // namespace cork::integration
