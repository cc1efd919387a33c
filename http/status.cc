// Reason phrases (RFC 9110 15) and the small HTML pages of error responses.
#include "http/status.h"

#include <array>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace cork {

namespace {

constexpr std::pair<int, std::string_view> kReasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {503, "Service Unavailable"},
    {505, "HTTP Version Not Supported"},
};

std::string make_page(int status, std::string_view reason) {
  return fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{0} {1}</title></head>"
      "<body><h1>{0} {1}</h1><hr><p>cork</p></body></html>\n",
      status, reason);
}

// Built once (thread-safe static initialization), then only read.
struct Pages {
  std::array<std::string, std::size(kReasons)> known;
  std::string unknown = make_page(0, "Unknown");
  Pages() {
    for (std::size_t i = 0; i < std::size(kReasons); ++i) {
      known[i] = make_page(kReasons[i].first, kReasons[i].second);
    }
  }
};

const Pages& pages() {
  static const Pages instance;
  return instance;
}

}  // namespace

std::string_view reason_phrase(int status) {
  for (const auto& [code, reason] : kReasons) {
    if (code == status) return reason;
  }
  return "Unknown";
}

std::string_view status_page(int status) {
  for (std::size_t i = 0; i < std::size(kReasons); ++i) {
    if (kReasons[i].first == status) return pages().known[i];
  }
  return pages().unknown;
}

}  // namespace cork
