// The MIME table: file extension -> Content-Type. Pure.
#pragma once

#include <string_view>

namespace cork {

// Content-Type for a file path, chosen by the extension after the last '.' of the last path
// segment, compared case-insensitively. Text types (text/*, application/javascript,
// application/json, application/xml, image/svg+xml, ...) carry "; charset=utf-8".
// Unknown or missing extensions give "application/octet-stream". The result has static storage.
std::string_view mime_type_for(std::string_view path);

}  // namespace cork
