// Integration tests: the O_NOFOLLOW walk that replaces openat2 where the kernel lacks it or a
// seccomp filter refuses it (EPERM in older container runtimes' default profiles), and the
// `openat2 = off` key that forces it. The key cases of the path and symlink tests, through it.
#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

constexpr const char* kSecret = "OUTSIDE-THE-ROOT-5e02";
constexpr const char* kWalkLine = "walking paths with O_NOFOLLOW";

void make_site(CorkProcess& server) {
  server.dir().write_file("secret.txt", kSecret);
  server.dir().write_file("outside/secret.txt", kSecret);
  server.put("a.txt", "a\n");
  server.put("sub/index.html", "sub\n");
  server.put("sub/b.txt", "b\n");
  server.put("noindex/x.txt", "x\n");
  std::filesystem::create_symlink("a.txt", server.root() / "inside");
  std::filesystem::create_symlink("inside", server.root() / "chain");  // chain -> inside -> a.txt
  std::filesystem::create_symlink(server.dir().path() / "secret.txt", server.root() / "outside");
  std::filesystem::create_symlink("outside", server.root() / "chain-out");
  std::filesystem::create_directory_symlink("sub", server.root() / "link-to-sub");
  std::filesystem::create_directory_symlink(server.dir().path() / "outside",
                                            server.root() / "link-to-outside-dir");
}

HttpResponse get(CorkProcess& server, const std::string& target) {
  SCOPED_TRACE("target: " + target);
  HttpResponse response;
  EXPECT_TRUE(fetch(server.port(), get_request(target), response));
  if (target != "/outside" && target != "/chain-out") {
    EXPECT_EQ(response.body.find(kSecret), std::string::npos) << "the secret was served";
  }
  return response;
}

int status_of(CorkProcess& server, const std::string& target) {
  return get(server, target).status;
}

// What the walk serves under follow_symlinks = inside (the default) or off: every regular
// file and directory, no symlink at all (stricter than openat2's `inside`, never looser).
void expect_walk_serves_without_symlinks(CorkProcess& server) {
  EXPECT_TRUE(server.wait_for_stderr(kWalkLine, std::chrono::milliseconds(5000)));
  EXPECT_EQ(get(server, "/a.txt").body, "a\n");
  EXPECT_EQ(get(server, "/sub/").body, "sub\n");
  EXPECT_EQ(get(server, "/sub/b.txt").body, "b\n");
  const HttpResponse redirect = get(server, "/sub?x=1");
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(redirect.header("Location"), "/sub/?x=1");
  EXPECT_EQ(status_of(server, "/noindex/"), 403);
  EXPECT_EQ(status_of(server, "/nope.txt"), 404);
  EXPECT_EQ(status_of(server, "/a.txt/"), 404);
  EXPECT_EQ(status_of(server, "/../secret.txt"), 400);
  EXPECT_EQ(status_of(server, "/%2e%2e/secret.txt"), 400);
  EXPECT_EQ(status_of(server, "/inside"), 403);
  EXPECT_EQ(status_of(server, "/chain"), 403);
  EXPECT_EQ(status_of(server, "/outside"), 403);
  EXPECT_EQ(status_of(server, "/chain-out"), 403);
  EXPECT_EQ(status_of(server, "/link-to-sub/b.txt"), 403);
  EXPECT_EQ(status_of(server, "/link-to-outside-dir/secret.txt"), 403);
}

TEST(Openat2FallbackTest, SeccompEpermFallsBackToTheWalk) {
  CorkProcess server;
  make_site(server);
  server.run_under({DENY_OPENAT2, "EPERM"});
  ASSERT_TRUE(server.start());
  expect_walk_serves_without_symlinks(server);
}

TEST(Openat2FallbackTest, MissingOpenat2FallsBackToTheWalk) {
  CorkProcess server;
  make_site(server);
  server.run_under({DENY_OPENAT2, "ENOSYS"});
  ASSERT_TRUE(server.start());
  expect_walk_serves_without_symlinks(server);
}

TEST(Openat2FallbackTest, KeyForcesTheWalk) {
  CorkProcess server;
  make_site(server);
  server.set("http", "openat2", "off");
  ASSERT_TRUE(server.start());
  expect_walk_serves_without_symlinks(server);
  EXPECT_EQ(server.stderr_count(kWalkLine), 1u);  // one line at start-up, not per request
}

TEST(Openat2FallbackTest, KeyForcesTheWalkWithSymlinksOff) {
  CorkProcess server;
  make_site(server);
  server.set("http", "openat2", "off");
  server.set("http", "follow_symlinks", "off");
  ASSERT_TRUE(server.start());
  expect_walk_serves_without_symlinks(server);
}

// follow_symlinks = on needs no fence: the walk is not used and every symlink is followed.
TEST(Openat2FallbackTest, KeyWithSymlinksOnFollowsAll) {
  CorkProcess server;
  make_site(server);
  server.set("http", "openat2", "off");
  server.set("http", "follow_symlinks", "on");
  ASSERT_TRUE(server.start());
  EXPECT_EQ(get(server, "/chain").body, "a\n");
  EXPECT_EQ(get(server, "/link-to-sub/b.txt").body, "b\n");
  EXPECT_EQ(get(server, "/chain-out").body, kSecret);
  EXPECT_EQ(status_of(server, "/../secret.txt"), 400);
}

// Where openat2 works and is not switched off, nothing is logged and `inside` follows inside.
TEST(Openat2FallbackTest, Openat2IsUsedWhereItWorks) {
  CorkProcess server;
  make_site(server);
  ASSERT_TRUE(server.start());
  EXPECT_EQ(get(server, "/chain").body, "a\n");
  EXPECT_EQ(status_of(server, "/chain-out"), 403);
  EXPECT_EQ(server.stderr_count(kWalkLine), 0u);
}

}  // namespace
}  // namespace cork::integration
