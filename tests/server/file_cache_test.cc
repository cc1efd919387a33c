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

// Issue 12 (many files): a directory without .br/.gz names is scanned once per epoch instead of
// probing two siblings per file; one that gains a sibling is scanned again after the event.
TEST_F(FileCacheTest, ADirectoryWithoutSiblingNamesCostsNoProbes) {
  ASSERT_EQ(mkdir((root_ + "/plain").c_str(), 0755), 0);
  for (int i = 0; i < 20; ++i)
    write("plain/f" + std::to_string(i), "x");
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  ASSERT_GE(cache.notification_fd(), 0) << "inotify unavailable";
  ASSERT_TRUE(get(cache, "/plain/f0").file);  // watches plain/ now: probes as before
  const std::uint64_t first = cache.sibling_probes();
  for (int i = 1; i < 20; ++i)
    ASSERT_TRUE(get(cache, "/plain/f" + std::to_string(i), i).file);
  EXPECT_EQ(cache.sibling_probes(), first) << "files of a scanned directory were probed";
  write("plain/f0.gz", "gz");
  cache.handle_notifications();
  auto r = get(cache, "/plain/f0", 30);
  ASSERT_TRUE(r.file);
  EXPECT_TRUE(r.file->gz.file) << "a sibling created after the scan was missed";
  EXPECT_GT(cache.sibling_probes(), first);
}

TEST_F(FileCacheTest, AZstdSiblingIsFoundBesideTheOthers) {
  write("z.txt", "zzz");
  write("z.txt.zst", "zst bytes");
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  auto r = get(cache, "/z.txt");
  ASSERT_TRUE(r.file);
  EXPECT_TRUE(r.file->zst.file);
  EXPECT_EQ(r.file->zst.body, "zst bytes");
  EXPECT_FALSE(r.file->br.file);
  EXPECT_TRUE(r.file->has_variants());
  EXPECT_NE(r.file->zst.fields_200.find("Content-Encoding: zstd\r\n"), std::string::npos)
      << r.file->zst.fields_200;
  EXPECT_EQ(cache.descriptors().held(), 2u);
}

TEST_F(FileCacheTest, ADirectoryWithSiblingNamesIsProbedPerFile) {
  write("a.txt.br", "br");
  write("b.txt", "b");
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  ASSERT_TRUE(get(cache, "/b.txt").file);
  auto r = get(cache, "/a.txt", 1);
  ASSERT_TRUE(r.file);
  EXPECT_TRUE(r.file->br.file);
  EXPECT_FALSE(r.file->gz.file);
}

// A repeated 404, or a directory without its index, costs no open while its directories are
// watched; the name appearing is seen once the event is handled.
TEST_F(FileCacheTest, AMissIsKeptUntilTheNameAppears) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  ASSERT_GE(cache.notification_fd(), 0) << "inotify unavailable";
  ASSERT_TRUE(get(cache, "/a.txt").file);  // the root is watched
  auto first = get(cache, "/late.txt", 1);
  EXPECT_EQ(first.miss.status, 404);
  EXPECT_FALSE(first.hit);
  auto second = get(cache, "/late.txt", 2);
  EXPECT_EQ(second.miss.status, 404);
  EXPECT_TRUE(second.hit) << "the 404 was looked up again";
  EXPECT_EQ(second.miss.path, "late.txt");
  write("late.txt", "here");
  cache.handle_notifications();
  auto third = get(cache, "/late.txt", 3);
  ASSERT_TRUE(third.file);
  EXPECT_EQ(third.file->identity.body, "here");
  // And without the event handled, the recheck interval still bounds it.
  auto gone = get(cache, "/gone.txt", 4);
  ASSERT_TRUE(get(cache, "/gone.txt", 5).hit);
  write("gone.txt", "back");
  EXPECT_TRUE(get(cache, "/gone.txt", 6).hit);
  EXPECT_TRUE(get(cache, "/gone.txt", 5 + FileCache::kRecheckMs).file);
}

TEST_F(FileCacheTest, ADirectoryWithoutIndexIsKeptUntilItGetsOne) {
  ASSERT_EQ(mkdir((root_ + "/bare").c_str(), 0755), 0);
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  ASSERT_GE(cache.notification_fd(), 0) << "inotify unavailable";
  // The first lookup watches bare/ itself, so it cannot vouch for what it saw; the second is kept.
  EXPECT_TRUE(get(cache, "/bare/").miss.directory_without_index);
  EXPECT_FALSE(get(cache, "/bare/", 1).hit);
  auto again = get(cache, "/bare/", 1);
  EXPECT_TRUE(again.hit);
  EXPECT_EQ(again.miss.status, 403);
  EXPECT_TRUE(again.miss.directory_without_index);
  EXPECT_EQ(again.miss.path, "bare");
  write("bare/index.html", "<p>now</p>");
  cache.handle_notifications();
  auto indexed = get(cache, "/bare/", 2);
  ASSERT_TRUE(indexed.file);
  EXPECT_EQ(indexed.file->identity.body, "<p>now</p>");
}

TEST_F(FileCacheTest, MissesInMissingDirectoriesOrRefusedAreNotKept) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  ASSERT_TRUE(get(cache, "/a.txt").file);
  EXPECT_EQ(get(cache, "/nodir/x.txt", 1).miss.status, 404);
  EXPECT_FALSE(get(cache, "/nodir/x.txt", 2).hit) << "nothing watches the missing directory";
  ASSERT_EQ(mkdir((root_ + "/nodir").c_str(), 0755), 0);
  write("nodir/x.txt", "x");
  EXPECT_TRUE(get(cache, "/nodir/x.txt", 3).file) << "served at once, no event needed";
  EXPECT_EQ(get(cache, "/dir", 4).miss.status, 301);
  EXPECT_FALSE(get(cache, "/dir", 5).hit) << "a redirect's Location carries the query";
}

TEST_F(FileCacheTest, AFloodOfMissingNamesNeverEvictsAFileAndStaysBounded) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(4));
  ASSERT_TRUE(get(cache, "/a.txt").file);
  for (int i = 0; i < 3000; ++i)
    ASSERT_EQ(get(cache, "/missing-" + std::to_string(i), 1).miss.status, 404);
  EXPECT_LE(cache.misses_kept(), FileCache::kShards * FileCache::kMissesPerShard);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(get(cache, "/a.txt", 2).hit);
  EXPECT_EQ(cache.shed(), 1u);
  EXPECT_EQ(cache.misses_kept(), 0u);
}

// Issue 12 (listing): a listing is rendered once and served from memory until its directory
// changes; HTML and JSON are kept apart, the bytes count in the memory limit.
TEST_F(FileCacheTest, AListingIsKeptUntilItsDirectoryChanges) {
  ASSERT_EQ(mkdir((root_ + "/list").c_str(), 0755), 0);
  write("list/one.txt", "1");
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  ASSERT_GE(cache.notification_fd(), 0) << "inotify unavailable";
  ASSERT_TRUE(get(cache, "/list/").miss.directory_without_index);  // watches list/
  using Format = FileCache::ListingFormat;
  auto html = cache.listing("list", "/list/", Format::kHtml, 1);
  ASSERT_TRUE(html.page);
  EXPECT_FALSE(html.hit);
  EXPECT_NE(html.page->body.find("one.txt"), std::string::npos);
  auto again = cache.listing("list", "/list/", Format::kHtml, 2);
  EXPECT_TRUE(again.hit);
  EXPECT_EQ(again.page.get(), html.page.get());
  EXPECT_EQ(cache.memory().held(), html.page->body.size());
  auto json = cache.listing("list", "/list/", Format::kJson, 3);
  ASSERT_TRUE(json.page);
  EXPECT_FALSE(json.hit);
  EXPECT_NE(json.page->body.find("\"name\":\"one.txt\""), std::string::npos);
  write("list/two.txt", "22");
  cache.handle_notifications();
  auto fresh = cache.listing("list", "/list/", Format::kHtml, 4);
  ASSERT_TRUE(fresh.page);
  EXPECT_FALSE(fresh.hit);
  EXPECT_NE(fresh.page->body.find("two.txt"), std::string::npos);
  // A file's new size shows too (its write is an event in the directory).
  write("list/one.txt", std::string(2048, 'x'));
  cache.handle_notifications();
  EXPECT_NE(cache.listing("list", "/list/", Format::kHtml, 5).page->body.find("2.0 KiB"),
            std::string::npos);
  // After an event the directories are watched again, so the page rendered then is not kept
  // (the watch came after the read); the next one is.
  EXPECT_FALSE(cache.listing("list", "/list/", Format::kHtml, 6).hit);
  EXPECT_TRUE(cache.listing("list", "/list/", Format::kHtml, 6).hit);
  // What changes outside the directory (a subdirectory's contents) is bounded by the interval.
  EXPECT_FALSE(cache.listing("list", "/list/", Format::kHtml, 6 + FileCache::kRecheckMs).hit);
  html = {};
  again = {};
  fresh = {};
  json = {};
  cache.shed();
  EXPECT_EQ(cache.memory().held(), 0u);
}

TEST_F(FileCacheTest, AListingThatDoesNotFitTheMemoryLimitIsServedButNotKept) {
  FileCacheLimits limits = entries(100);
  limits.memory = 64;
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", limits);
  ASSERT_TRUE(get(cache, "/dir/").file);
  auto page = cache.listing("dir", "/dir/", FileCache::ListingFormat::kHtml, 1);
  ASSERT_TRUE(page.page);
  EXPECT_NE(page.page->body.find("index.html"), std::string::npos);
  EXPECT_FALSE(cache.listing("dir", "/dir/", FileCache::ListingFormat::kHtml, 2).hit);
  EXPECT_LE(cache.memory().held(), 64u);
  auto missing = cache.listing("nope", "/nope/", FileCache::ListingFormat::kHtml, 3);
  EXPECT_FALSE(missing.page);
  EXPECT_EQ(missing.error, ENOENT);
}

// Issue 12 (many files): once the cache is full a file is admitted on its second miss, so that
// files requested once cost no eviction and no preformatted head.
TEST_F(FileCacheTest, OnceFullAFileIsKeptOnlyWhenItIsRequestedAgain) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(4));
  for (int i = 0; i < 4; ++i) {
    write("f" + std::to_string(i), "x");
    auto r = get(cache, "/f" + std::to_string(i));
    ASSERT_TRUE(r.file);
    EXPECT_FALSE(r.file->identity.fields_200.empty()) << "kept while there is room";
  }
  ASSERT_EQ(cache.size(), 4u);
  write("once.txt", "once");
  auto once = get(cache, "/once.txt", 1);
  ASSERT_TRUE(once.file);
  EXPECT_EQ(once.file->identity.body, "once");
  EXPECT_TRUE(once.file->identity.fields_200.empty());
  EXPECT_EQ(cache.size(), 4u);
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(get(cache, "/f" + std::to_string(i), 2).hit) << "a file seen once evicted f" << i;
  once = {};
  EXPECT_EQ(cache.descriptors().held(), 4u) << "the file seen once was not closed";
  auto twice = get(cache, "/once.txt", 3);
  ASSERT_TRUE(twice.file);
  EXPECT_FALSE(twice.hit);
  EXPECT_FALSE(twice.file->identity.fields_200.empty());
  EXPECT_TRUE(get(cache, "/once.txt", 4).hit);
  EXPECT_EQ(cache.size(), 4u);
  // After a change anywhere, the files in the map are rebuilt and kept at once: a hot file
  // must not need two misses after every event.
  write("unrelated.txt", "u");
  cache.handle_notifications();
  auto rebuilt = get(cache, "/once.txt", 5);
  ASSERT_TRUE(rebuilt.file);
  EXPECT_FALSE(rebuilt.hit);
  EXPECT_FALSE(rebuilt.file->identity.fields_200.empty()) << "a file in the map was not kept";
  EXPECT_TRUE(get(cache, "/once.txt", 6).hit);
}

// A file the cache does not keep lives for one response: its body is not the cache's memory,
// so a flood of files requested once cannot squeeze kept files out of the memory limit (and
// costs no shared counter per request).
TEST_F(FileCacheTest, AFileNotKeptIsNotCountedInTheMemoryLimit) {
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(1));
  write("kept.txt", "kept");
  write("once.txt", "served once");
  ASSERT_TRUE(get(cache, "/kept.txt").file);
  ASSERT_EQ(cache.memory().held(), 4u);
  auto once = get(cache, "/once.txt", 1);
  ASSERT_TRUE(once.file);
  EXPECT_TRUE(once.file->identity.fields_200.empty()) << "kept although the cache is full";
  EXPECT_EQ(once.file->identity.body, "served once");
  EXPECT_EQ(cache.memory().held(), 4u) << "a file not kept was counted in the memory limit";
  once = {};
  EXPECT_EQ(cache.memory().held(), 4u);
}

TEST_F(FileCacheTest, AMissThroughADanglingSymlinkIsNotKept) {
  ASSERT_EQ(mkdir((root_ + "/other").c_str(), 0755), 0);
  ASSERT_EQ(symlink("other/t.txt", (root_ + "/link").c_str()), 0);
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  ASSERT_TRUE(get(cache, "/a.txt").file);  // the root is watched
  EXPECT_EQ(get(cache, "/link", 1).miss.status, 404);
  EXPECT_FALSE(get(cache, "/link", 2).hit) << "nothing watches other/, where the target appears";
  write("other/t.txt", "target");
  auto r = get(cache, "/link", 3);  // no event handled: served at once
  ASSERT_TRUE(r.file);
  EXPECT_EQ(r.file->identity.body, "target");
}

TEST_F(FileCacheTest, AListingLargerThanItsCapIsNotKept) {
  ASSERT_EQ(mkdir((root_ + "/huge").c_str(), 0755), 0);
  const std::string padding(120, 'n');
  for (int i = 0; i < 1500; ++i)
    write("huge/" + padding + std::to_string(i), "");
  FileCache cache(root_fd_.get(), SymlinkPolicy::kInside, true, "", entries(100));
  ASSERT_TRUE(get(cache, "/huge/").miss.directory_without_index);
  ASSERT_TRUE(get(cache, "/huge/", 1).miss.directory_without_index);
  auto page = cache.listing("huge", "/huge/", FileCache::ListingFormat::kHtml, 2);
  ASSERT_TRUE(page.page);
  ASSERT_GT(page.page->body.size(), FileCache::kMaxListingBytes);
  EXPECT_FALSE(cache.listing("huge", "/huge/", FileCache::ListingFormat::kHtml, 3).hit);
  EXPECT_EQ(cache.memory().held(), 0u);
}

}  // namespace
}  // namespace cork
