// RequestHead: the arena that keeps header fields without per-field allocations.
#include "http/request.h"

namespace cork {

void RequestHead::clear() {
  method = Method::kUnknown;
  method_name.clear();
  target.clear();
  version_major = 1;
  version_minor = 1;
  keep_alive = true;
  arena_.clear();
  fields_.clear();
}

void RequestHead::begin_field() {
  Field f;
  f.name_offset = static_cast<std::uint32_t>(arena_.size());
  f.value_offset = f.name_offset;
  fields_.push_back(f);
}

void RequestHead::append_name(std::string_view bytes) {
  if (fields_.empty()) begin_field();
  Field& f = fields_.back();
  arena_.append(bytes);
  f.name_length += static_cast<std::uint32_t>(bytes.size());
  f.value_offset = static_cast<std::uint32_t>(arena_.size());
}

void RequestHead::append_value(std::string_view bytes) {
  if (fields_.empty()) begin_field();
  Field& f = fields_.back();
  arena_.append(bytes);
  f.value_length += static_cast<std::uint32_t>(bytes.size());
}

std::string_view RequestHead::field_name(std::size_t i) const {
  const Field& f = fields_[i];
  return std::string_view(arena_).substr(f.name_offset, f.name_length);
}

std::string_view RequestHead::field_value(std::size_t i) const {
  const Field& f = fields_[i];
  // llhttp strips leading OWS; trailing OWS is not part of the value (RFC 9110 5.5).
  return trim_trailing_ows(std::string_view(arena_).substr(f.value_offset, f.value_length));
}

std::optional<std::string_view> RequestHead::header(std::string_view name) const {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (named(i, name)) return field_value(i);
  }
  return std::nullopt;
}

std::size_t RequestHead::count(std::string_view name) const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (named(i, name)) ++n;
  }
  return n;
}

std::optional<std::string> RequestHead::combined(std::string_view name) const {
  std::optional<std::string> out;
  for (std::size_t i = 0; i < field_count(); ++i) {
    if (!named(i, name)) continue;
    if (out) {
      out->append(", ");
      out->append(field_value(i));
    } else {
      out.emplace(field_value(i));
    }
  }
  return out;
}

}  // namespace cork
