// Integration tests: directory listings (autoindex) as HTML and JSON, escaping of hostile names,
// hidden dotfiles, and that listings stay off by default.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

class ListingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.put("files/<script>.txt", "x");
    server_.put("files/b file.txt", std::string(1536, 'b'));
    server_.put("files/.secret", "hidden");
    server_.put("files/sub/inner.txt", "inner");
    server_.put("files/a.txt", "a");
    server_.put("withindex/index.html", "<p>index</p>");
    server_.set("http", "autoindex", "on");
    ASSERT_TRUE(server_.start());
  }
  CorkProcess server_;
};

TEST_F(ListingTest, HtmlListsDirectoriesFirstEscapedAndWithoutDotfiles) {
  HttpResponse r;
  ASSERT_TRUE(fetch(server_.port(), get_request("/files/"), r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  const std::string& page = r.body;
  EXPECT_EQ(page.find("<script>"), std::string::npos) << "a file name was not escaped";
  EXPECT_NE(page.find("&lt;script&gt;.txt"), std::string::npos);
  EXPECT_NE(page.find("href=\"%3Cscript%3E.txt\""), std::string::npos);
  EXPECT_NE(page.find("href=\"b%20file.txt\""), std::string::npos);
  EXPECT_NE(page.find("1.5 KiB"), std::string::npos);
  EXPECT_NE(page.find("href=\"../\""), std::string::npos);
  EXPECT_EQ(page.find(".secret"), std::string::npos);
  const auto sub = page.find("href=\"sub/\"");
  const auto a = page.find("href=\"a.txt\"");
  ASSERT_NE(sub, std::string::npos);
  ASSERT_NE(a, std::string::npos);
  EXPECT_LT(sub, a) << "directories come first";
}

TEST_F(ListingTest, JsonWhenAsked) {
  HttpResponse r;
  ASSERT_TRUE(fetch(server_.port(), get_request("/files/", "Accept: application/json\r\n"), r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  EXPECT_NE(r.body.find("\"name\":\"<script>.txt\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"name\":\"sub\""), std::string::npos);
  EXPECT_EQ(r.body.find(".secret"), std::string::npos);
}

// Issue 11: `wget -r` mirrors came out incomplete because the listing linked names cork then
// refuses with 400. Every link of a listing holding such names is served.
TEST_F(ListingTest, EveryLinkedNameIsServed) {
  for (const char* name : {"back\\slash.txt", "bad\xFF.txt", "tab\tname.txt", "caf\xC3\xA9.txt"})
    server_.put(std::string("odd/") + name, "x");
  HttpResponse page;
  ASSERT_TRUE(fetch(server_.port(), get_request("/odd/"), page));
  ASSERT_EQ(page.status, 200);
  std::size_t links = 0;
  for (std::size_t at = page.body.find("href=\""); at != std::string::npos;
       at = page.body.find("href=\"", at + 1)) {
    const std::size_t start = at + 6;
    const std::string href = page.body.substr(start, page.body.find('"', start) - start);
    if (href == "../") continue;
    ++links;
    HttpResponse r;
    ASSERT_TRUE(fetch(server_.port(), get_request("/odd/" + href), r)) << href;
    EXPECT_EQ(r.status, 200) << href;
  }
  EXPECT_EQ(links, 1u) << page.body;  // only caf\xC3\xA9.txt
  EXPECT_NE(page.body.find("href=\"caf%C3%A9.txt\""), std::string::npos) << page.body;
}

TEST_F(ListingTest, IndexFileStillWinsAndSlashlessRedirects) {
  HttpResponse r;
  ASSERT_TRUE(fetch(server_.port(), get_request("/withindex/"), r));
  EXPECT_EQ(r.body, "<p>index</p>");
  ASSERT_TRUE(fetch(server_.port(), get_request("/files"), r));
  EXPECT_EQ(r.status, 301);
}

// Issue 12: listings and 404s are kept by the open-file cache; a file created afterwards shows in
// the next listing and is served as soon as its inotify event is handled.
TEST_F(ListingTest, ACachedListingAndA404ChangeWhenAFileAppears) {
  HttpResponse page, missing;
  for (int i = 0; i < 3; ++i) {  // the first requests add the watches, the later ones are kept
    ASSERT_TRUE(fetch(server_.port(), get_request("/files/"), page));
    ASSERT_TRUE(fetch(server_.port(), get_request("/files/late.txt"), missing));
  }
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.body.find("late.txt"), std::string::npos);
  EXPECT_EQ(missing.status, 404);
  server_.put("files/late.txt", "late");
  // Well within the cache's 1 s recheck: only the inotify event, handled by the reactor, can
  // make the change show this soon.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(600);
  do {
    ASSERT_TRUE(fetch(server_.port(), get_request("/files/"), page));
    ASSERT_TRUE(fetch(server_.port(), get_request("/files/late.txt"), missing));
  } while ((page.body.find("late.txt") == std::string::npos || missing.status != 200) &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_NE(page.body.find("href=\"late.txt\""), std::string::npos) << page.body;
  EXPECT_EQ(missing.status, 200);
  EXPECT_EQ(missing.body, "late");
  // HEAD of a kept listing: the same head, no body.
  HttpResponse head;
  ASSERT_TRUE(fetch(server_.port(), head_request("/files/"), head, Method::kHead));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), std::to_string(page.body.size()));
  EXPECT_TRUE(head.body.empty());
}

TEST(ListingOffTest, DirectoryWithoutIndexIs403ByDefault) {
  CorkProcess server;
  server.put("files/a.txt", "a");
  ASSERT_TRUE(server.start());
  HttpResponse r;
  ASSERT_TRUE(fetch(server.port(), get_request("/files/"), r));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body.find("a.txt"), std::string::npos);
}

}  // namespace
}  // namespace cork::integration
