// Content codings cork can send (RFC 9110 8.4.1) and their names. Pure; no allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cork {

// Which representation of a file a response carries.
enum class Coding : std::uint8_t { kIdentity, kBrotli, kGzip, kZstd };

// "br", "gzip", "zstd", or "" for identity: the Content-Encoding value.
std::string_view coding_name(Coding coding);

// The coding a configuration names ("br", "zstd", "gzip"; case-insensitive); nullopt otherwise
// (identity is not a coding one can ask to compress with).
std::optional<Coding> parse_coding_name(std::string_view name);

}  // namespace cork
