// Status codes: reason phrases and the short HTML pages sent with error responses. Pure.
#pragma once

#include <string_view>

namespace cork {

// "OK", "Not Found", ... for every status cork sends; "Unknown" otherwise.
std::string_view reason_phrase(int status);

// A short, complete HTML document for an error status ("<html>...<h1>404 Not Found</h1>...").
// Static storage; identical for every request so that Content-Length is exact.
std::string_view status_page(int status);

}  // namespace cork
