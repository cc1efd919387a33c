// reason_phrase / status_page: the phrase of every status cork sends (RFC 9110 15, RFC 6585 5
// for 431), and the error pages built from them.
#include "http/status.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace cork {
namespace {

struct Phrase {
  int status;
  std::string reason;
};

// Every status cork sends, with the phrase the RFC gives it.
const std::vector<Phrase> kSent = {
    {200, "OK"},                               // RFC 9110 15.3.1
    {206, "Partial Content"},                  // 15.3.7
    {301, "Moved Permanently"},                // 15.4.2
    {304, "Not Modified"},                     // 15.4.5
    {400, "Bad Request"},                      // 15.5.1
    {403, "Forbidden"},                        // 15.5.4
    {404, "Not Found"},                        // 15.5.5
    {405, "Method Not Allowed"},               // 15.5.6
    {412, "Precondition Failed"},              // 15.5.13
    {414, "URI Too Long"},                     // 15.5.15
    {416, "Range Not Satisfiable"},            // 15.5.17
    {431, "Request Header Fields Too Large"},  // RFC 6585 5
    {500, "Internal Server Error"},            // 15.6.1
    {501, "Not Implemented"},                  // 15.6.2
    {503, "Service Unavailable"},              // 15.6.4
    {505, "HTTP Version Not Supported"},       // 15.6.6
};

TEST(ReasonPhrase, EveryStatusCorkSends) {
  for (const Phrase& p : kSent) {
    SCOPED_TRACE(p.status);
    EXPECT_EQ(reason_phrase(p.status), p.reason);
  }
}

TEST(ReasonPhrase, OtherKnownStatuses) {
  EXPECT_EQ(reason_phrase(413), "Content Too Large");  // RFC 9110 15.5.14 renamed it
  EXPECT_EQ(reason_phrase(408), "Request Timeout");
  EXPECT_EQ(reason_phrase(411), "Length Required");
}

TEST(ReasonPhrase, UnknownStatus) {
  EXPECT_EQ(reason_phrase(0), "Unknown");
  EXPECT_EQ(reason_phrase(299), "Unknown");
  EXPECT_EQ(reason_phrase(418), "Unknown");
  EXPECT_EQ(reason_phrase(999), "Unknown");
  EXPECT_EQ(reason_phrase(-1), "Unknown");
}

TEST(StatusPage, IsACompleteHtmlDocumentNamingCodeAndPhrase) {
  for (const Phrase& p : kSent) {
    SCOPED_TRACE(p.status);
    const std::string_view page = status_page(p.status);
    const std::string line = std::to_string(p.status) + " " + p.reason;
    EXPECT_TRUE(page.starts_with("<!DOCTYPE html>")) << page;
    EXPECT_NE(page.find("<html>"), page.npos) << page;
    EXPECT_NE(page.find("<meta charset=\"utf-8\">"), page.npos) << page;
    EXPECT_NE(page.find("<title>" + line + "</title>"), page.npos) << page;
    EXPECT_NE(page.find("<h1>" + line + "</h1>"), page.npos) << page;
    EXPECT_NE(page.find("<body>"), page.npos) << page;
    EXPECT_NE(page.find("</body></html>"), page.npos) << page;
    EXPECT_TRUE(page.ends_with("</html>\n")) << page;
    EXPECT_EQ(page.find('\0'), page.npos);
  }
}

TEST(StatusPage, DiffersPerStatus) {
  EXPECT_NE(status_page(404), status_page(400));
  EXPECT_EQ(status_page(404).find("400"), std::string_view::npos);
  EXPECT_EQ(status_page(400).find("Not Found"), std::string_view::npos);
}

TEST(StatusPage, IsTheSameBytesOnEveryCall) {
  // Static storage: the server may keep the view while the response is sent, and Content-Length
  // must match what is sent.
  const std::string_view first = status_page(404);
  const std::string_view second = status_page(404);
  EXPECT_EQ(first.data(), second.data());
  EXPECT_EQ(first.size(), second.size());
  EXPECT_EQ(status_page(999).data(), status_page(999).data());
}

TEST(StatusPage, UnknownStatusStillGivesACompleteDocument) {
  const std::string_view page = status_page(999);
  EXPECT_TRUE(page.starts_with("<!DOCTYPE html>")) << page;
  EXPECT_NE(page.find("Unknown"), page.npos) << page;
  EXPECT_TRUE(page.ends_with("</html>\n")) << page;
  EXPECT_EQ(page.find("Not Found"), page.npos) << page;
}

}  // namespace
}  // namespace cork
