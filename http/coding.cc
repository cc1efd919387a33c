// Content coding names (RFC 9110 8.4.1, and RFC 8878 for zstd).
#include "http/coding.h"

#include "http/ascii.h"

namespace cork {

std::string_view coding_name(Coding coding) {
  switch (coding) {
    case Coding::kBrotli:
      return "br";
    case Coding::kGzip:
      return "gzip";
    case Coding::kZstd:
      return "zstd";
    case Coding::kIdentity:
      break;
  }
  return {};
}

std::optional<Coding> parse_coding_name(std::string_view name) {
  for (const Coding c : {Coding::kBrotli, Coding::kZstd, Coding::kGzip}) {
    if (equals_ignore_case(name, coding_name(c))) return c;
  }
  return std::nullopt;
}

}  // namespace cork
