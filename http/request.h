// The head of one HTTP request as a value: method, target, version and header fields.
// Pure data; filled by RequestParser, read by the server to decide the response.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Not used here: server/connection.cc takes equals_ignore_case from this header until it
// includes http/ascii.h itself.
#include "http/ascii.h"

namespace cork {

enum class Method : std::uint8_t { kGet, kHead, kOtherKnown, kUnknown };

// Copyable value. Field names and values live in one arena string so a request costs no
// allocation per field once the buffers have grown.
class RequestHead {
 public:
  Method method = Method::kUnknown;
  std::string method_name;
  std::string target;  // the request-target exactly as received
  int version_major = 1;
  int version_minor = 1;   // 0 or 1: HTTP/1.2 and above are processed as 1.1 (RFC 9110 2.5)
  bool keep_alive = true;  // per RFC 9112 9.3 (HTTP/1.1 default, HTTP/1.0 opt-in)

  void clear();

  // Field storage (used by the parser): appends bytes to the current name or value.
  void begin_field();
  void append_name(std::string_view bytes);
  void append_value(std::string_view bytes);

  std::size_t field_count() const { return fields_.size(); }
  std::string_view field_name(std::size_t i) const;
  std::string_view field_value(std::size_t i) const;  // trailing whitespace removed
  // Whether field i's name is `name` (ASCII case-insensitive); the lengths first, no copy.
  bool named(std::size_t i, std::string_view name) const {
    const Field& f = fields_[i];
    return f.name_length == name.size() &&
           equals_ignore_case(std::string_view(arena_.data() + f.name_offset, f.name_length), name);
  }

  // The first field with this name (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  // How many fields carry this name (case-insensitive).
  std::size_t count(std::string_view name) const;
  // Every field with this name joined with ", " (RFC 9110 5.3: the same as one field with a
  // comma-separated list), or nullopt when there is none.
  std::optional<std::string> combined(std::string_view name) const;

 private:
  struct Field {
    std::uint32_t name_offset = 0;
    std::uint32_t name_length = 0;
    std::uint32_t value_offset = 0;
    std::uint32_t value_length = 0;
  };
  std::string arena_;
  std::vector<Field> fields_;
};

}  // namespace cork
