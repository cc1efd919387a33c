// Integration-test support: temporary directories and file helpers (see temp_dir_support.h).
#include "integration/temp_dir_support.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace cork::integration {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "cork-it-XXXXXX").string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ignored;  // a destructor cannot report; a leftover temp dir is harmless
  fs::remove_all(path_, ignored);
}

fs::path TempDir::write_file(std::string_view relative, std::string_view content) const {
  fs::path full = path_ / relative;
  integration::write_file(full, content);
  return full;
}

fs::path TempDir::make_dir(std::string_view relative) const {
  fs::path full = path_ / relative;
  fs::create_directories(full);
  return full;
}

void write_file(const fs::path& path, std::string_view content) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void set_mtime(const fs::path& path, std::time_t seconds, long nanoseconds) {
  timespec times[2] = {{seconds, nanoseconds}, {seconds, nanoseconds}};
  if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    throw std::runtime_error("utimensat " + path.string() + ": " + std::strerror(errno));
  }
}

std::string pseudo_random_bytes(std::size_t size, std::uint64_t seed) {
  std::string out(size, '\0');
  std::uint64_t state = seed * 0x9e3779b97f4a7c15ULL + 1;
  for (std::size_t i = 0; i < size; i += 8) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    std::uint64_t word = state * 0x2545f4914f6cdd1dULL;
    std::size_t n = size - i < 8 ? size - i : 8;
    std::memcpy(out.data() + i, &word, n);
  }
  return out;
}

std::string first_difference(std::string_view expected, std::string_view actual) {
  std::size_t common = expected.size() < actual.size() ? expected.size() : actual.size();
  std::size_t at = 0;
  while (at < common && expected[at] == actual[at])
    ++at;
  if (at == common && expected.size() == actual.size()) return "";
  std::ostringstream out;
  out << "expected " << expected.size() << " bytes, got " << actual.size()
      << " bytes; first difference at offset " << at;
  return out.str();
}

std::string printable(std::string_view text, std::size_t limit) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\r') {
      out += "\\r";
    } else if (byte == '\n') {
      out += "\\n";
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += static_cast<char>(byte);
    }
  }
  if (text.size() > limit) out += "...(" + std::to_string(text.size()) + " bytes)";
  return out;
}

}  // namespace cork::integration
