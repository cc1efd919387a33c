// static_file: lookups beneath a real temporary root, with symlinks pointing in and out.
#include "server/static_file.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "server/unique_fd.h"

namespace cork {
namespace {

class StaticFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cork-static-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ + "/root";
    ASSERT_EQ(mkdir(root_.c_str(), 0755), 0);
    write(base_ + "/secret.txt", "secret");
    write(root_ + "/a.txt", "hello");
    ASSERT_EQ(mkdir((root_ + "/dir").c_str(), 0755), 0);
    write(root_ + "/dir/index.html", "<p>index</p>");
    ASSERT_EQ(mkdir((root_ + "/empty").c_str(), 0755), 0);
    ASSERT_EQ(symlink("a.txt", (root_ + "/inside-link").c_str()), 0);
    ASSERT_EQ(symlink("../secret.txt", (root_ + "/outside-link").c_str()), 0);
    ASSERT_EQ(symlink((base_ + "/secret.txt").c_str(), (root_ + "/absolute-link").c_str()), 0);
    ASSERT_EQ(symlink("..", (root_ + "/up").c_str()), 0);
    ASSERT_EQ(symlink("loop2", (root_ + "/loop1").c_str()), 0);
    ASSERT_EQ(symlink("loop1", (root_ + "/loop2").c_str()), 0);
    ASSERT_EQ(symlink("inside-link", (root_ + "/chain").c_str()),
              0);  // chain -> inside-link -> a.txt
    ASSERT_EQ(symlink("outside-link", (root_ + "/chain-out").c_str()), 0);  // chain -> outside
    ASSERT_EQ(mkfifo((root_ + "/fifo").c_str(), 0644), 0);
    root_fd_.reset(open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_fd_);
  }
  void TearDown() override { std::system(("rm -rf '" + base_ + "'").c_str()); }

  static void write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  }
  FileLookup lookup(const std::string& path, bool query = false,
                    SymlinkPolicy symlinks = SymlinkPolicy::kInside) {
    Target t;
    t.path = path;
    t.has_query = query;
    t.query = query ? "x=1" : "";
    return lookup_file(root_fd_.get(), t, "index.html", symlinks);
  }
  static void bind_socket(const std::string& path) {
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(fd);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    ASSERT_LT(path.size(), sizeof address.sun_path);
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address), 0)
        << std::strerror(errno);
  }
  int status(const std::string& path, SymlinkPolicy symlinks) {
    return lookup(path, false, symlinks).status;
  }

  std::string base_, root_;
  UniqueFd root_fd_;
};

TEST_F(StaticFileTest, ServesRegularFiles) {
  FileLookup f = lookup("/a.txt");
  EXPECT_EQ(f.status, 200);
  EXPECT_TRUE(f.file);
  EXPECT_EQ(f.info.st_size, 5);
  EXPECT_EQ(f.path, "a.txt");
}

TEST_F(StaticFileTest, DirectoriesServeTheirIndexOrRedirectOrForbid) {
  FileLookup index = lookup("/dir/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.path, "dir/index.html");
  FileLookup redirect = lookup("/dir", true);
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(redirect.location, "/dir/?x=1");
  EXPECT_EQ(lookup("/empty/").status, 403);
  EXPECT_EQ(lookup("/").status, 403);  // the root has no index.html here
  write(root_ + "/index.html", "root");
  EXPECT_EQ(lookup("/").status, 200);
}

TEST_F(StaticFileTest, MissingFilesAre404) {
  EXPECT_EQ(lookup("/nope.txt").status, 404);
  EXPECT_EQ(lookup("/a.txt/").status, 404);
  EXPECT_EQ(lookup("/a.txt/x").status, 404);
}

TEST_F(StaticFileTest, SymlinksAreFollowedOnlyInsideTheRoot) {
  EXPECT_EQ(lookup("/inside-link").status, 200);
  EXPECT_EQ(lookup("/outside-link").status, 403);
  EXPECT_EQ(lookup("/absolute-link").status, 403);
  EXPECT_EQ(lookup("/up/secret.txt").status, 403);
  EXPECT_EQ(lookup("/loop1").status, 403);
}

TEST_F(StaticFileTest, SpecialFilesAreNeverServedAndNeverBlock) {
  // A FIFO without a writer would block an O_RDONLY open forever; this returns at once.
  EXPECT_EQ(lookup("/fifo").status, 403);
}

// A socket file cannot be opened at all (ENXIO): it is refused like a FIFO, never a 500.
TEST_F(StaticFileTest, SocketFilesAreRefusedLikeFifos) {
  bind_socket(root_ + "/sock");
  EXPECT_EQ(lookup("/sock").status, 403);
  // Reached as a directory's index too.
  ASSERT_EQ(mkdir((root_ + "/sockdir").c_str(), 0755), 0);
  bind_socket(root_ + "/sockdir/index.html");
  EXPECT_EQ(lookup("/sockdir/").status, 403);
  EXPECT_EQ(lookup("/fifo").status, lookup("/sock").status);
}

// The 301 for a directory named without its '/' names the normalized path, re-encoded: a
// Location starting with "//" would be a network-path reference to another host.
TEST_F(StaticFileTest, RedirectLocationIsTheNormalizedPath) {
  ASSERT_EQ(mkdir((root_ + "/evil.example").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root_ + "/a b").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root_ + "/q?x").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root_ + "/\xc3\xa9t\xc3\xa9").c_str(), 0755), 0);
  struct Case {
    std::string target;
    std::string location;
  };
  const Case cases[] = {
      {"//evil.example", "/evil.example/"},
      {"///evil.example", "/evil.example/"},
      {"//evil.example/../dir", "/dir/"},
      {"/.//evil.example", "/evil.example/"},
      {"/%2Fevil.example", "/evil.example/"},
      {"http://example.com//evil.example", "/evil.example/"},
      {"//evil.example?x=1", "/evil.example/?x=1"},
      {"/dir?", "/dir/?"},
      {"/a%20b", "/a%20b/"},
      {"/q%3fx", "/q%3Fx/"},
      {"/%c3%a9t%c3%a9", "/%C3%A9t%C3%A9/"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("target: " + c.target);
    const Target target = resolve_target(c.target);
    ASSERT_EQ(target.status, 0);
    const FileLookup found =
        lookup_file(root_fd_.get(), target, "index.html", SymlinkPolicy::kInside);
    EXPECT_EQ(found.status, 301);
    EXPECT_EQ(found.location, c.location);
    EXPECT_NE(found.location.rfind("//", 0), 0u);
  }
}

TEST_F(StaticFileTest, OpenBeneathRefusesDotDot) {
  UniqueFd out;
  EXPECT_NE(open_beneath(root_fd_.get(), "../secret.txt", SymlinkPolicy::kInside, out), 0);
  EXPECT_FALSE(out);
  EXPECT_EQ(open_beneath(root_fd_.get(), "a.txt", SymlinkPolicy::kInside, out), 0);
  EXPECT_TRUE(out);
}

TEST_F(StaticFileTest, FollowSymlinksInsideFollowsOnlyTargetsBeneathTheRoot) {
  const auto inside = SymlinkPolicy::kInside;
  EXPECT_EQ(status("/inside-link", inside), 200);
  EXPECT_EQ(status("/chain", inside), 200);
  EXPECT_EQ(status("/outside-link", inside), 403);
  EXPECT_EQ(status("/absolute-link", inside), 403);
  EXPECT_EQ(status("/chain-out", inside), 403);
  EXPECT_EQ(status("/up/secret.txt", inside), 403);
  EXPECT_EQ(status("/loop1", inside), 403);
}

TEST_F(StaticFileTest, FollowSymlinksOffRefusesEverySymlink) {
  const auto off = SymlinkPolicy::kOff;
  EXPECT_EQ(status("/a.txt", off), 200);
  EXPECT_EQ(status("/inside-link", off), 403);
  EXPECT_EQ(status("/chain", off), 403);
  EXPECT_EQ(status("/outside-link", off), 403);
}

TEST_F(StaticFileTest, FollowSymlinksOnFollowsEverySymlink) {
  const auto on = SymlinkPolicy::kOn;
  EXPECT_EQ(status("/inside-link", on), 200);
  EXPECT_EQ(status("/outside-link", on), 200);
  EXPECT_EQ(status("/absolute-link", on), 200);
  EXPECT_EQ(status("/chain-out", on), 200);
  EXPECT_EQ(status("/loop1", on), 403);
}

TEST_F(StaticFileTest, VariantsMustBeRegularAndNotOlder) {
  write(root_ + "/v.txt", "plain");
  write(root_ + "/v.txt.gz", "gz");
  struct stat original {};
  ASSERT_EQ(stat((root_ + "/v.txt").c_str(), &original), 0);
  Variant v;
  EXPECT_TRUE(open_variant(root_fd_.get(), "v.txt", ".gz", original, SymlinkPolicy::kInside, v));
  EXPECT_TRUE(v.file);
  EXPECT_FALSE(open_variant(root_fd_.get(), "v.txt", ".br", original, SymlinkPolicy::kInside, v));
  // Older than the original: never served.
  timespec times[2] = {{0, UTIME_OMIT}, {original.st_mtim.tv_sec - 10, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, (root_ + "/v.txt.gz").c_str(), times, 0), 0);
  Variant stale;
  EXPECT_FALSE(
      open_variant(root_fd_.get(), "v.txt", ".gz", original, SymlinkPolicy::kInside, stale));
  ASSERT_EQ(mkdir((root_ + "/d.txt.gz").c_str(), 0755), 0);
  write(root_ + "/d.txt", "d");
  ASSERT_EQ(stat((root_ + "/d.txt").c_str(), &original), 0);
  Variant directory;
  EXPECT_FALSE(
      open_variant(root_fd_.get(), "d.txt", ".gz", original, SymlinkPolicy::kInside, directory));
}

TEST_F(StaticFileTest, ReadDirectoryListsWhatCouldBeServed) {
  std::vector<ListingEntry> entries;
  ASSERT_EQ(read_directory(root_fd_.get(), "", SymlinkPolicy::kInside, entries), 0);
  auto has = [&](const std::string& name) {
    for (const auto& e : entries) {
      if (e.name == name) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("a.txt"));
  EXPECT_TRUE(has("dir"));
  EXPECT_TRUE(has("inside-link"));
  EXPECT_FALSE(has("outside-link"));  // its target is outside the root
  EXPECT_FALSE(has("fifo"));          // never served
  EXPECT_FALSE(has("."));
  EXPECT_FALSE(has(".."));
  for (const auto& e : entries) {
    if (e.name == "a.txt") {
      EXPECT_EQ(e.size, 5u);
    }
    if (e.name == "dir") {
      EXPECT_TRUE(e.is_directory);
    }
  }
}

// The walk that replaces openat2 where a kernel or seccomp filter refuses it: the same files,
// no symlinks under kInside or kOff, every symlink under kOn.
TEST_F(StaticFileTest, TheWalkServesTheSameFilesButNoSymlinks) {
  const OpenMethod before = open_method();
  set_open_method(OpenMethod::kWalk);
  for (const auto policy : {SymlinkPolicy::kInside, SymlinkPolicy::kOff}) {
    EXPECT_EQ(status("/a.txt", policy), 200);
    EXPECT_EQ(status("/dir/", policy), 200);
    EXPECT_EQ(status("/dir", policy), 301);
    EXPECT_EQ(status("/empty/", policy), 403);
    EXPECT_EQ(status("/nope.txt", policy), 404);
    EXPECT_EQ(status("/fifo", policy), 403);
    EXPECT_EQ(status("/inside-link", policy), 403);
    EXPECT_EQ(status("/chain", policy), 403);
    EXPECT_EQ(status("/outside-link", policy), 403);
    EXPECT_EQ(status("/absolute-link", policy), 403);
    EXPECT_EQ(status("/up/secret.txt", policy), 403);
    EXPECT_EQ(status("/loop1", policy), 403);
  }
  EXPECT_EQ(status("/chain", SymlinkPolicy::kOn), 200);
  EXPECT_EQ(status("/absolute-link", SymlinkPolicy::kOn), 200);
  set_open_method(before);
}

}  // namespace
}  // namespace cork
