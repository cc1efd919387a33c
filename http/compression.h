// Compressing a representation whole, in memory, with zlib (gzip), libbrotli (br) or libzstd
// (zstd), and which media types are worth it. Pure functions: no file system, no threads (the
// server's Compressor runs them on its own thread). Never throw: a library failure is nullopt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/coding.h"

namespace cork {

// The levels each library takes; a configuration outside them is refused by --check.
struct LevelRange {
  int min = 0;
  int max = 0;
};
LevelRange level_range(Coding coding);

// `input` compressed whole with `coding` at `level` (inside level_range). nullopt for identity,
// or when the library fails (out of memory).
std::optional<std::string> compress(Coding coding, int level, std::string_view input);

// The library's name and version ("zlib-1.2.13"): part of the key of a compressed copy, so that
// a copy made by another version is never taken for this one's output (ETags stay stable only
// while the bytes are the same).
std::string codec_version(Coding coding);

// Whether `content_type` (parameters ignored, case-insensitive) matches one of `patterns`:
// "text/html" exactly, "text/*" any subtype of text.
bool type_matches(std::string_view content_type, const std::vector<std::string>& patterns);

// What is compressed on the fly, and how: the [http] compress_* keys. Copyable value.
struct CompressionPolicy {
  bool enabled = true;
  std::vector<Coding> codings = {Coding::kBrotli, Coding::kZstd, Coding::kGzip};  // offered
  int level_br = 9;
  int level_zstd = 12;
  int level_gzip = 6;
  // Media types worth compressing ("text/*" matches every text type); never images, video,
  // archives or fonts that are compressed already (woff, woff2).
  std::vector<std::string> types = {"text/*",           "application/javascript",
                                    "application/json", "application/manifest+json",
                                    "application/wasm", "application/xml",
                                    "image/svg+xml",    "image/x-icon",
                                    "font/ttf",         "font/otf"};
  std::uint64_t min_size = 256;                     // smaller files gain nothing worth a field
  std::uint64_t max_size = std::uint64_t{8} << 20;  // larger ones go out uncompressed
  // A second pass in the background at the strongest level (second_level()) replaces each first
  // copy when it is smaller. Off by default: it costs a file's compression again, much slower.
  bool second_pass = false;
  bool offers(Coding coding) const;
  int level(Coding coding) const;
  // br 11, zstd 19 (the strongest without zstd's --ultra windows), gzip 9; 0 when second_pass
  // is off or the first level is that strong already.
  int second_level(Coding coding) const;
};

}  // namespace cork
