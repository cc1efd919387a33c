// Integration tests: from request target to file. Directories and their redirects, dot
// segments, traversal attempts (with a secret placed outside the root that must never be
// served), symlinks, and hidden dotfiles.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

constexpr const char* kSecret = "TOP-SECRET-7f3a9c-outside-the-root";
constexpr const char* kA = "file a\n";
constexpr const char* kSubIndex = "<p>sub index</p>\n";

class PathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Outside the root: dir()/secret.txt and dir()/outside/secret.txt.
    server_.dir().write_file("secret.txt", kSecret);
    server_.dir().write_file("outside/secret.txt", kSecret);
    server_.put("index.html", "<p>root index</p>\n");
    server_.put("a.txt", kA);
    server_.put("sub/index.html", kSubIndex);
    server_.put("sub/b.txt", "file b\n");
    server_.put("noindex/x.txt", "x\n");
    server_.put(".hidden", kSecret);
    server_.put(".git/config", kSecret);
    server_.put("sub/.env", kSecret);
    server_.put(".well-known/security.txt", "Contact: mailto:security@example.org\n");
    std::filesystem::create_directory_symlink(server_.dir().path() / "outside",
                                              server_.root() / "link-to-outside-dir");
    std::filesystem::create_symlink(server_.dir().path() / "secret.txt",
                                    server_.root() / "link-to-secret.txt");
    std::filesystem::create_symlink("../secret.txt", server_.root() / "relative-link-out.txt");
    std::filesystem::create_symlink("a.txt", server_.root() / "link-to-a.txt");
    std::filesystem::create_symlink("../a.txt", server_.root() / "sub/link-up-to-a.txt");
    std::filesystem::create_directory_symlink("sub", server_.root() / "link-to-sub");
    ASSERT_TRUE(server_.start());
  }
  int port() const { return server_.port(); }

  // One request on a fresh connection; the response must be a refusal that leaks nothing.
  void expect_refused(const std::string& request) {
    SCOPED_TRACE("request: \"" + printable(request) + "\"");
    HttpResponse response;
    Method method = request.rfind("HEAD ", 0) == 0 ? Method::kHead : Method::kGet;
    ASSERT_TRUE(fetch(port(), request, response, method));
    EXPECT_TRUE(response.status == 400 || response.status == 403 || response.status == 404)
        << "status " << response.status;
    EXPECT_EQ(response.body.find(kSecret), std::string::npos) << "the secret was served";
    EXPECT_EQ(response.body.find("root:x:0:0"), std::string::npos) << "/etc/passwd was served";
  }

  void expect_file(const std::string& target, const std::string& content) {
    SCOPED_TRACE("target: " + target);
    HttpResponse response;
    ASSERT_TRUE(fetch(port(), get_request(target), response));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, content);
  }

  CorkProcess server_;
};

TEST_F(PathsTest, DirectoryWithoutSlashRedirectsWithQueryKept) {
  HttpResponse response;
  ASSERT_TRUE(fetch(port(), get_request("/sub"), response));
  EXPECT_EQ(response.status, 301);
  EXPECT_EQ(response.header("Location"), "/sub/");
  EXPECT_FALSE(response.framed_by_close) << "301 without Content-Length";

  ASSERT_TRUE(fetch(port(), get_request("/sub?x=1"), response));
  EXPECT_EQ(response.status, 301);
  EXPECT_EQ(response.header("Location"), "/sub/?x=1");

  ASSERT_TRUE(fetch(port(), get_request("/noindex"), response));
  EXPECT_EQ(response.status, 301);
  EXPECT_EQ(response.header("Location"), "/noindex/");
}

// A Location starting with "//" is a network-path reference: browsers would leave for the host
// it names. The redirect names the normalized path instead (RFC 3986 4.2).
TEST_F(PathsTest, DirectoryRedirectNeverNamesAnotherHost) {
  server_.put("evil.example/x.txt", "x\n");
  struct Case {
    std::string request;
    std::string location;
  };
  const Case cases[] = {
      {get_request("//evil.example"), "/evil.example/"},
      {get_request("//evil.example?x=1"), "/evil.example/?x=1"},
      {get_request("//evil.example/../sub"), "/sub/"},
      {get_request("/%2F%2Fevil.example"), "/evil.example/"},
      {"GET http://127.0.0.1//evil.example HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "/evil.example/"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("request: \"" + printable(c.request) + "\"");
    HttpResponse response;
    ASSERT_TRUE(fetch(port(), c.request, response));
    EXPECT_EQ(response.status, 301);
    EXPECT_EQ(response.header("Location"), c.location);
  }
}

// Neither a FIFO nor a socket file is served, and neither is a 500.
TEST_F(PathsTest, SpecialFilesAre403) {
  ASSERT_EQ(mkfifo((server_.root() / "fifo").c_str(), 0644), 0);
  const std::string socket_path = (server_.root() / "sock").string();
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ASSERT_LT(socket_path.size(), sizeof address.sun_path);
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  const int bound = bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  close(fd);  // the socket file stays
  ASSERT_EQ(bound, 0) << std::strerror(errno);
  for (const char* target : {"/fifo", "/sock"}) {
    SCOPED_TRACE(target);
    HttpResponse response;
    ASSERT_TRUE(fetch(port(), get_request(target), response));
    EXPECT_EQ(response.status, 403);
  }
}

TEST_F(PathsTest, DirectoryWithSlashServesItsIndex) {
  expect_file("/sub/", kSubIndex);
  expect_file("/sub/?x=1", kSubIndex);
  expect_file("/sub/index.html", kSubIndex);
}

TEST_F(PathsTest, DirectoryWithoutIndexIs403) {
  HttpResponse response;
  ASSERT_TRUE(fetch(port(), get_request("/noindex/"), response));
  EXPECT_EQ(response.status, 403);
}

TEST_F(PathsTest, DotSegmentsInsideTheRootAreResolved) {
  expect_file("/sub/../a.txt", kA);
  expect_file("/./a.txt", kA);
  expect_file("/sub/./b.txt", "file b\n");
  expect_file("/sub/x/../../a.txt", kA);
}

TEST_F(PathsTest, TraversalNeverLeavesTheRoot) {
  const char* targets[] = {
      "/../secret.txt",
      "/../../../../../../../../etc/passwd",
      "/sub/../../secret.txt",
      "/%2e%2e/secret.txt",
      "/%2E%2E/secret.txt",
      "/.%2e/secret.txt",
      "/%2e./secret.txt",
      "/sub/%2e%2e/%2e%2e/secret.txt",
      "/..%2fsecret.txt",
      "/%2e%2e%2fsecret.txt",
      "/sub%2f..%2f..%2fsecret.txt",
      "/%2F..%2F..%2Fsecret.txt",
      "/..\\secret.txt",
      "/sub\\..\\..\\secret.txt",
      "/%5c..%5csecret.txt",
      "/..%5csecret.txt",
      "/%c0%ae%c0%ae/secret.txt",
      "/%c0%ae%c0%ae%c0%afsecret.txt",
      "/%e0%80%ae%e0%80%ae/secret.txt",
      "/a.txt%00",
      "/a.txt%00.html",
      "/%00/../secret.txt",
      "/%252e%252e/secret.txt",
      "//../secret.txt",
      "/./../secret.txt",
      "/outside/secret.txt",
      "/link-to-sub/../../secret.txt",
  };
  for (const char* target : targets)
    expect_refused(get_request(target));
  // The same through absolute-form and without the leading slash.
  expect_refused("GET http://127.0.0.1/../secret.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  expect_refused("GET http://127.0.0.1/%2e%2e/secret.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  expect_refused("GET ../secret.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  expect_refused("GET ..%2fsecret.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  // HEAD too: no secret length or body either.
  expect_refused(head_request("/../secret.txt"));
}

TEST_F(PathsTest, SymlinkPointingOutsideTheRootIsNotServed) {
  expect_refused(get_request("/link-to-secret.txt"));
  expect_refused(get_request("/relative-link-out.txt"));
  expect_refused(get_request("/link-to-outside-dir/secret.txt"));
  expect_refused(get_request("/link-to-outside-dir/"));
}

TEST_F(PathsTest, SymlinkPointingInsideTheRootIsServed) {
  expect_file("/link-to-a.txt", kA);
  expect_file("/sub/link-up-to-a.txt", kA);
  expect_file("/link-to-sub/b.txt", "file b\n");
}

TEST_F(PathsTest, DotfilesAndDotDirectoriesAre404) {
  for (const char* target : {"/.hidden", "/.git/config", "/.git/", "/.git", "/sub/.env",
                             "/%2ehidden", "/%2Egit/config", "/sub/%2eenv"}) {
    SCOPED_TRACE(target);
    HttpResponse response;
    ASSERT_TRUE(fetch(port(), get_request(target), response));
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(response.body.find(kSecret), std::string::npos);
  }
}

TEST_F(PathsTest, WellKnownIsServed) {
  expect_file("/.well-known/security.txt", "Contact: mailto:security@example.org\n");
}

}  // namespace
}  // namespace cork::integration

namespace cork::integration {
namespace {

// Paths longer than PATH_MAX (4096) but within max_request_line reach the file system and are
// 404 (ENAMETOOLONG), a segment longer than NAME_MAX (255) too; beyond max_request_line, 414.
TEST(LongPathTest, OverPathMaxIs404AndOverTheLineLimitIs414) {
  CorkProcess server;
  server.put("a.txt", "a\n");
  ASSERT_TRUE(server.start());
  HttpResponse response;
  std::string deep;
  while (deep.size() < 5000)
    deep += "/abcdefghij";
  ASSERT_TRUE(fetch(server.port(), get_request(deep), response));
  EXPECT_EQ(response.status, 404);
  ASSERT_TRUE(fetch(server.port(), get_request("/" + std::string(300, 'n')), response));
  EXPECT_EQ(response.status, 404);
  ASSERT_TRUE(fetch(server.port(), get_request("/" + std::string(9000, 'x')), response));
  EXPECT_EQ(response.status, 414);
  ASSERT_TRUE(fetch(server.port(), get_request("/a.txt"), response));
  EXPECT_EQ(response.status, 200);  // still serving
}

}  // namespace
}  // namespace cork::integration
