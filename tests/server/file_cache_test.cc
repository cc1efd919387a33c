// FileCache: hits, invalidation when a file changes, siblings, misses passed through, and that
// a cached descriptor is only served while the path still names the same file.
#include "server/file_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "http/target_path.h"

namespace cork {
namespace {

FileCacheLimits entries(std::size_t n) {
  FileCacheLimits limits;
  limits.entries = n;
  return limits;
}

std::size_t open_descriptors() {
  std::size_t n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr)
      ++n;
    closedir(d);
  }
  return n - 3;  // ".", ".." and the directory's own descriptor
}

class FileCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cork-cache-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ + "/root";
    ASSERT_EQ(mkdir(root_.c_str(), 0755), 0);
    write("a.txt", "hello");
    ASSERT_EQ(mkdir((root_ + "/dir").c_str(), 0755), 0);
    write("dir/index.html", "<p>index</p>");
    write("big.bin", std::string(FileCache::kSmallFileLimit + 1, 'x'));
    root_fd_.reset(open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_fd_);
  }
  void TearDown() override { std::system(("rm -rf '" + base_ + "'").c_str()); }

  void write(const std::string& rel, const std::string& text) {
    std::ofstream(root_ + "/" + rel, std::ios::trunc) << text;
  }
  FileCache::Result get(FileCache& cache, const std::string& path, std::int64_t now = 0) {
    return cache.lookup(resolve_target(path), "index.html", now);
  }

  std::string base_, root_;
  UniqueFd root_fd_;
};

TEST_F(FileCacheTest, HitsReturnTheSameEntry) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  auto first = get(cache, "/a.txt");
  ASSERT_TRUE(first.file);
  EXPECT_TRUE(first.file->identity.in_memory);
  EXPECT_EQ(first.file->identity.body, "hello");
  EXPECT_EQ(first.file->content_type, "text/plain; charset=utf-8");
  auto second = get(cache, "/a.txt", 10);
  EXPECT_EQ(first.file.get(), second.file.get());
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(FileCacheTest, AChangedFileIsNeverServedStale) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  auto first = get(cache, "/a.txt");
  ASSERT_TRUE(first.file);
  write("a.txt", "changed!");    // another size
  cache.handle_notifications();  // what the reactor does when the inotify fd is readable
  auto second = get(cache, "/a.txt", 1);
  ASSERT_TRUE(second.file);
  EXPECT_NE(first.file.get(), second.file.get());
  EXPECT_EQ(second.file->identity.body, "changed!");
  // Replaced by rename: a new inode.
  std::ofstream(root_ + "/new.txt") << "renamed";
  ASSERT_EQ(std::rename((root_ + "/new.txt").c_str(), (root_ + "/a.txt").c_str()), 0);
  cache.handle_notifications();
  auto third = get(cache, "/a.txt", 2);
  ASSERT_TRUE(third.file);
  EXPECT_EQ(third.file->identity.body, "renamed");
  // The entry a sender still holds keeps its own content.
  EXPECT_EQ(second.file->identity.body, "changed!");
}

TEST_F(FileCacheTest, ChangesAnywhereOnThePathAreNoticed) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  ASSERT_GE(cache.notification_fd(), 0) << "inotify unavailable";
  auto index = get(cache, "/dir/");
  ASSERT_TRUE(index.file);
  // Nothing changed: a hit, no rebuild.
  cache.handle_notifications();
  EXPECT_EQ(get(cache, "/dir/", 1).file.get(), index.file.get());
  // The directory itself is replaced by another one: the parent's watch sees it.
  ASSERT_EQ(std::rename((root_ + "/dir").c_str(), (root_ + "/old-dir").c_str()), 0);
  ASSERT_EQ(mkdir((root_ + "/dir").c_str(), 0755), 0);
  write("dir/index.html", "<p>new</p>");
  cache.handle_notifications();
  auto fresh = get(cache, "/dir/", 2);
  ASSERT_TRUE(fresh.file);
  EXPECT_EQ(fresh.file->identity.body, "<p>new</p>");
}

// Directories already watched are not watched again on every miss; one replaced after it was
// watched is, so that changes inside the new one are still seen at once.
TEST_F(FileCacheTest, ADirectoryReplacedAfterItWasWatchedIsWatchedAgain) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  ASSERT_GE(cache.notification_fd(), 0) << "inotify unavailable";
  write("dir/a.txt", "a");
  write("dir/b.txt", "b");
  ASSERT_TRUE(get(cache, "/dir/a.txt").file);
  ASSERT_TRUE(get(cache, "/dir/b.txt").file);  // same directory: already watched
  ASSERT_EQ(std::rename((root_ + "/dir").c_str(), (root_ + "/old-dir").c_str()), 0);
  ASSERT_EQ(mkdir((root_ + "/dir").c_str(), 0755), 0);
  write("dir/c.txt", "v1");
  cache.handle_notifications();
  auto first = get(cache, "/dir/c.txt", 1);
  ASSERT_TRUE(first.file);
  EXPECT_EQ(first.file->identity.body, "v1");
  // A change inside the new directory: its watch must exist for this to be noticed within the
  // recheck interval.
  write("dir/c.txt", "v2");
  cache.handle_notifications();
  auto second = get(cache, "/dir/c.txt", 2);
  ASSERT_TRUE(second.file);
  EXPECT_EQ(second.file->identity.body, "v2");
  // And in the old one's place nothing is served from the old directory.
  EXPECT_EQ(get(cache, "/dir/a.txt", 3).miss.status, 404);
}

TEST_F(FileCacheTest, AHitCostsNoStatWhileNothingChanges) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  ASSERT_GE(cache.notification_fd(), 0) << "inotify unavailable";
  auto first = get(cache, "/a.txt");
  ASSERT_TRUE(first.file);
  EXPECT_NE(first.file->epoch, 0u) << "the directories of a.txt were not watched";
  EXPECT_TRUE(get(cache, "/a.txt", 5).hit);
}

TEST_F(FileCacheTest, RemovedFileIsAMiss) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  ASSERT_TRUE(get(cache, "/a.txt").file);
  ASSERT_EQ(unlink((root_ + "/a.txt").c_str()), 0);
  cache.handle_notifications();
  auto r = get(cache, "/a.txt", 1);
  EXPECT_FALSE(r.file);
  EXPECT_EQ(r.miss.status, 404);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(FileCacheTest, MissesCarryTheLookupStatus) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  EXPECT_EQ(get(cache, "/nope").miss.status, 404);
  auto dir = get(cache, "/dir");
  EXPECT_FALSE(dir.file);
  EXPECT_EQ(dir.miss.status, 301);
  auto index = get(cache, "/dir/");
  ASSERT_TRUE(index.file);
  EXPECT_EQ(index.file->path, "dir/index.html");
  EXPECT_EQ(index.file->content_type, "text/html; charset=utf-8");
}

TEST_F(FileCacheTest, LargeFilesAreNotKeptInMemory) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  auto r = get(cache, "/big.bin");
  ASSERT_TRUE(r.file);
  EXPECT_FALSE(r.file->identity.in_memory);
  EXPECT_TRUE(r.file->identity.body.empty());
  EXPECT_TRUE(r.file->identity.file);
}

TEST_F(FileCacheTest, SiblingsAreRecheckedAfterTheRecheckInterval) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  auto r = get(cache, "/a.txt", 0);
  ASSERT_TRUE(r.file);
  EXPECT_FALSE(r.file->has_variants());
  write("a.txt.gz", "gz");
  // Without the notification being handled, only the recheck interval retires the entry.
  EXPECT_FALSE(get(cache, "/a.txt", 1).file->has_variants());
  auto later = get(cache, "/a.txt", FileCache::kRecheckMs + 1);
  ASSERT_TRUE(later.file);
  EXPECT_TRUE(later.file->has_variants());
  EXPECT_TRUE(later.file->gz.file);
  EXPECT_NE(later.file->gz.etag, later.file->identity.etag);
}

TEST_F(FileCacheTest, SiblingsAreIgnoredWhenPrecompressedIsOff) {
  write("a.txt.gz", "gz");
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, false, "", entries(100));
  auto r = get(cache, "/a.txt");
  ASSERT_TRUE(r.file);
  EXPECT_FALSE(r.file->has_variants());
}

TEST_F(FileCacheTest, ASymlinkSwappedInIsResolvedUnderThePolicy) {
  std::ofstream(base_ + "/secret.txt") << "secret";
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  ASSERT_TRUE(get(cache, "/a.txt").file);
  ASSERT_EQ(unlink((root_ + "/a.txt").c_str()), 0);
  ASSERT_EQ(symlink((base_ + "/secret.txt").c_str(), (root_ + "/a.txt").c_str()), 0);
  cache.handle_notifications();
  auto r = get(cache, "/a.txt", 1);
  EXPECT_FALSE(r.file);
  EXPECT_EQ(r.miss.status, 403);
}

TEST_F(FileCacheTest, StaysWithinItsEntryLimitExactly) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(16));
  for (int i = 0; i < 200; ++i) {
    write("f" + std::to_string(i), "x");
    ASSERT_TRUE(get(cache, "/f" + std::to_string(i)).file);
    EXPECT_LE(cache.size(), 16u);
  }
  EXPECT_EQ(cache.size(), 16u);
  EXPECT_EQ(cache.descriptors().held(), 16u);
}

TEST_F(FileCacheTest, ZeroEntriesCachesNothingAndStillServes) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(0));
  auto r = get(cache, "/a.txt");
  ASSERT_TRUE(r.file);
  EXPECT_EQ(r.file->identity.body, "hello");
  EXPECT_EQ(cache.size(), 0u);
  r.file.reset();
  EXPECT_EQ(cache.descriptors().held(), 0u);
}

TEST_F(FileCacheTest, KeepsToItsDescriptorShareSiblingsIncluded) {
  FileCacheLimits limits = entries(1000);
  limits.descriptors = std::make_shared<Allowance>(10);
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", limits);
  for (int i = 0; i < 50; ++i) {
    const std::string name = "f" + std::to_string(i);
    write(name, "x");
    write(name + ".gz", "gz");  // each entry holds two descriptors
    ASSERT_TRUE(get(cache, "/" + name).file);
    EXPECT_LE(limits.descriptors->held(), 10u);
  }
  EXPECT_EQ(cache.size(), 5u);
}

TEST_F(FileCacheTest, AFileBeingSentAfterEvictionStillCountsUntilReleased) {
  FileCacheLimits limits = entries(1000);
  limits.descriptors = std::make_shared<Allowance>(2);
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", limits);
  write("b.txt", "b");
  write("c.txt", "c");
  auto sending = get(cache, "/a.txt");  // a connection still sending it
  ASSERT_TRUE(get(cache, "/b.txt").file);
  ASSERT_TRUE(get(cache, "/c.txt").file);  // evicts until the share holds again
  EXPECT_LE(limits.descriptors->held(), 2u);
  EXPECT_EQ(fcntl(sending.file->identity.file.get(), F_GETFD), FD_CLOEXEC);  // still open
  sending.file.reset();
  EXPECT_EQ(limits.descriptors->held(), cache.size());
}

TEST_F(FileCacheTest, CachesSharingOneBudgetStayWithinItTogether) {
  auto share = std::make_shared<Allowance>(4);
  FileCacheLimits limits = entries(1000);
  limits.descriptors = share;
  FileCache old_cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", limits);
  FileCache new_cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", limits);
  for (int i = 0; i < 4; ++i) {
    write("o" + std::to_string(i), "x");
    ASSERT_TRUE(get(old_cache, "/o" + std::to_string(i)).file);
  }
  EXPECT_EQ(old_cache.size(), 4u);
  // The new configuration's cache serves, but keeps nothing while the old one holds the share.
  for (int i = 0; i < 4; ++i) {
    write("n" + std::to_string(i), "x");
    ASSERT_TRUE(get(new_cache, "/n" + std::to_string(i)).file);
  }
  EXPECT_EQ(new_cache.size(), 0u);
  EXPECT_EQ(share->held(), 4u);
  EXPECT_EQ(old_cache.shed(), 4u);
  ASSERT_TRUE(get(new_cache, "/n0").file);
  EXPECT_EQ(new_cache.size(), 1u);
  EXPECT_EQ(share->held(), 1u);
}

TEST_F(FileCacheTest, KeepsBodiesInMemoryOnlyWithinItsMemoryLimit) {
  FileCacheLimits limits = entries(100);
  limits.memory = 8;
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", limits);
  write("eight.txt", "12345678");
  auto small = get(cache, "/a.txt");  // 5 bytes: fits
  ASSERT_TRUE(small.file);
  EXPECT_TRUE(small.file->identity.in_memory);
  auto other = get(cache, "/eight.txt");  // 5 + 8 > 8: served from its descriptor
  ASSERT_TRUE(other.file);
  EXPECT_FALSE(other.file->identity.in_memory);
  EXPECT_TRUE(other.file->identity.file);
  EXPECT_EQ(cache.memory().held(), 5u);
}

TEST_F(FileCacheTest, OutOfDescriptorsShedsTheCacheInsteadOfFailing) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  for (int i = 0; i < 20; ++i) {
    write("f" + std::to_string(i), "x");
    ASSERT_TRUE(get(cache, "/f" + std::to_string(i)).file);
  }
  write("new.txt", "new");
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit tight = saved;
  tight.rlim_cur = open_descriptors() + 8;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::vector<UniqueFd> filler;  // takes every descriptor number left below the limit
  for (;;) {
    UniqueFd fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!fd) break;
    filler.push_back(std::move(fd));
  }
  auto r = get(cache, "/new.txt");
  filler.clear();
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_TRUE(r.file) << r.miss.status;
  EXPECT_TRUE(r.descriptors_short);
  EXPECT_EQ(r.shed, 20u);
  EXPECT_EQ(r.file->identity.body, "new");
}

}  // namespace
}  // namespace cork
