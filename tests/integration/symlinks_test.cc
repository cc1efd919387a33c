// Integration tests: follow_symlinks = inside | on | off on the wire, with a secret outside the
// root that only `on` may serve.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

constexpr const char* kSecret = "OUTSIDE-THE-ROOT-31c9";

int status_of(CorkProcess& server, const std::string& target) {
  HttpResponse response;
  EXPECT_TRUE(fetch(server.port(), get_request(target), response));
  if (response.status == 200 && target != "/outside" && target != "/chain-out") {
    EXPECT_EQ(response.body.find(kSecret), std::string::npos);
  }
  return response.status;
}

void make_links(CorkProcess& server) {
  server.dir().write_file("secret.txt", kSecret);
  server.put("a.txt", "a\n");
  std::filesystem::create_symlink("a.txt", server.root() / "inside");
  std::filesystem::create_symlink("inside", server.root() / "chain");  // chain -> inside -> a.txt
  std::filesystem::create_symlink(server.dir().path() / "secret.txt", server.root() / "outside");
  std::filesystem::create_symlink("outside", server.root() / "chain-out");
}

TEST(SymlinksTest, InsideIsTheDefault) {
  CorkProcess server;
  make_links(server);
  ASSERT_TRUE(server.start());
  EXPECT_EQ(status_of(server, "/inside"), 200);
  EXPECT_EQ(status_of(server, "/chain"), 200);
  EXPECT_EQ(status_of(server, "/outside"), 403);
  EXPECT_EQ(status_of(server, "/chain-out"), 403);
}

TEST(SymlinksTest, OffRefusesAll) {
  CorkProcess server;
  make_links(server);
  server.set("http", "follow_symlinks", "off");
  ASSERT_TRUE(server.start());
  EXPECT_EQ(status_of(server, "/a.txt"), 200);
  EXPECT_EQ(status_of(server, "/inside"), 403);
  EXPECT_EQ(status_of(server, "/chain"), 403);
  EXPECT_EQ(status_of(server, "/outside"), 403);
}

TEST(SymlinksTest, OnFollowsAll) {
  CorkProcess server;
  make_links(server);
  server.set("http", "follow_symlinks", "on");
  ASSERT_TRUE(server.start());
  EXPECT_EQ(status_of(server, "/chain"), 200);
  HttpResponse response;
  ASSERT_TRUE(fetch(server.port(), get_request("/chain-out"), response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, kSecret);
  // Still no traversal through the target itself.
  EXPECT_EQ(status_of(server, "/../secret.txt"), 400);
}

}  // namespace
}  // namespace cork::integration
