// Compressor: one copy per file, coding and level however many ask at once; never a copy of
// older bytes for a changed file; the memory limit (least recently used out first); a copy no
// smaller than the file is remembered as useless instead of being made again; jobs still queued
// at shutdown are dropped.
#include "server/compressor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <zstd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "http/target_path.h"
#include "server/file_cache.h"

namespace cork {
namespace {

std::string text(std::size_t size, int seed) {
  std::string t;
  for (int i = 0; t.size() < size; ++i)
    t += "line " + std::to_string(i * seed) + " of some text that repeats itself\n";
  t.resize(size);
  return t;
}

std::string unzstd(const std::string& in) {
  std::string out(1 << 20, '\0');
  const std::size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n)) return "(error)";
  out.resize(n);
  return out;
}

class CompressorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cork-compress-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    root_fd_.reset(open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_fd_);
    cache_ = std::make_unique<FileCache>(root_fd_.get(), SymlinkPolicy::kInside, false, "",
                                         FileCacheLimits{});
  }
  void TearDown() override { std::system(("rm -rf '" + root_ + "'").c_str()); }

  void write(const std::string& name, const std::string& content) {
    std::ofstream(root_ + "/" + name, std::ios::trunc) << content;
  }
  // The file as the open-file cache hands it out now (rebuilt: every call is a new lookup).
  std::shared_ptr<const CachedFile> file(const std::string& name) {
    cache_->shed();
    auto r = cache_->lookup(resolve_target("/" + name), "index.html", ++now_);
    EXPECT_TRUE(r.file) << name;
    return r.file;
  }

  std::string root_;
  UniqueFd root_fd_;
  std::unique_ptr<FileCache> cache_;
  std::int64_t now_ = 0;
};

TEST_F(CompressorTest, ConcurrentFirstRequestsMakeOneCopy) {
  const std::string content = text(300'000, 3);
  write("a.js", content);
  Compressor compressor({});
  const auto a = file("a.js");
  std::vector<std::thread> threads;
  std::atomic<int> served_copies{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (compressor.get_or_schedule(a, Coding::kZstd, 19)) ++served_copies;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  compressor.wait_idle();
  EXPECT_EQ(compressor.counters().compressed.load(), 1u) << "compressed more than once";
  EXPECT_EQ(compressor.counters().misses.load(), 1u);
  EXPECT_EQ(compressor.counters().dropped.load(), 0u);
  const auto copy = compressor.get_or_schedule(a, Coding::kZstd, 19);
  ASSERT_TRUE(copy);
  EXPECT_FALSE(copy->useless);
  EXPECT_EQ(unzstd(copy->bytes), content);
  EXPECT_EQ(compressor.memory_held(), copy->bytes.size() + Compressor::kCopyOverhead);
  // Another level or coding is another copy.
  EXPECT_FALSE(compressor.get_or_schedule(a, Coding::kZstd, 3));
  compressor.wait_idle();
  EXPECT_EQ(compressor.copies(), 2u);
}

TEST_F(CompressorTest, TheFirstAskIsNeverAnsweredWithACopy) {
  write("b.css", text(5000, 1));
  Compressor compressor({});
  EXPECT_FALSE(compressor.get_or_schedule(file("b.css"), Coding::kGzip, 6));
  compressor.wait_idle();
  EXPECT_TRUE(compressor.get_or_schedule(file("b.css"), Coding::kGzip, 6));
}

TEST_F(CompressorTest, AChangedFileIsNeverAnsweredWithTheOldCopy) {
  const std::string v1 = text(20'000, 1);
  write("c.js", v1);
  Compressor compressor({});
  compressor.get_or_schedule(file("c.js"), Coding::kZstd, 3);
  compressor.wait_idle();
  ASSERT_EQ(unzstd(compressor.get_or_schedule(file("c.js"), Coding::kZstd, 3)->bytes), v1);
  // The same size, a later modification time: the content differs, so must the copy.
  std::string v2 = v1;
  v2[100] = '#';
  write("c.js", v2);
  struct timespec times[2] = {{0, UTIME_OMIT}, {0, 0}};
  ASSERT_EQ(clock_gettime(CLOCK_REALTIME, &times[1]), 0);
  times[1].tv_sec += 5;
  ASSERT_EQ(utimensat(AT_FDCWD, (root_ + "/c.js").c_str(), times, 0), 0);
  EXPECT_FALSE(compressor.get_or_schedule(file("c.js"), Coding::kZstd, 3));
  compressor.wait_idle();
  const auto copy = compressor.get_or_schedule(file("c.js"), Coding::kZstd, 3);
  ASSERT_TRUE(copy);
  EXPECT_EQ(unzstd(copy->bytes), v2);
}

TEST_F(CompressorTest, KeepsWithinItsMemoryLeastRecentlyUsedOutFirst) {
  Compressor::Limits limits;
  limits.memory = 12'000;
  Compressor compressor(limits);
  std::vector<std::shared_ptr<const CachedFile>> files;
  std::mt19937 random(3);
  for (int i = 0; i < 6; ++i) {
    std::string hex(9000, '0');  // compresses to about half: two copies fit, three do not
    for (char& c : hex)
      c = "0123456789abcdef"[random() % 16];
    write("f" + std::to_string(i), hex);
    files.push_back(file("f" + std::to_string(i)));
  }
  auto make = [&](int i) {
    compressor.get_or_schedule(files[static_cast<std::size_t>(i)], Coding::kGzip, 9);
    compressor.wait_idle();
    return compressor.get_or_schedule(files[static_cast<std::size_t>(i)], Coding::kGzip, 9);
  };
  const auto first = make(0);
  ASSERT_TRUE(first);
  const std::size_t each = first->bytes.size() + Compressor::kCopyOverhead;
  ASSERT_LT(each * 2, limits.memory) << "the test needs room for two copies";
  ASSERT_GT(each * 3, limits.memory) << "the test needs three copies to pass the limit";
  for (int i = 1; i < 6; ++i) {
    ASSERT_TRUE(make(i));
    ASSERT_TRUE(compressor.get_or_schedule(files[0], Coding::kGzip, 9)) << "used: kept";
    EXPECT_LE(compressor.memory_held(), limits.memory);
  }
  // f0 was used after every other copy was made: it stayed; f1 was the least recently used.
  EXPECT_FALSE(compressor.get_or_schedule(files[1], Coding::kGzip, 9));
}

TEST_F(CompressorTest, ACopyNoSmallerThanTheFileIsNotMadeAgain) {
  std::string noise(4000, '\0');
  std::mt19937 random(5);
  for (char& c : noise)
    c = static_cast<char>(random());
  write("noise.bin", noise);
  Compressor compressor({});
  const auto f = file("noise.bin");
  EXPECT_FALSE(compressor.get_or_schedule(f, Coding::kBrotli, 5));
  compressor.wait_idle();
  const auto copy = compressor.get_or_schedule(f, Coding::kBrotli, 5);
  ASSERT_TRUE(copy);
  EXPECT_TRUE(copy->useless);
  EXPECT_TRUE(copy->bytes.empty());
  EXPECT_EQ(compressor.counters().compressed.load(), 1u);
  EXPECT_EQ(compressor.memory_held(), Compressor::kCopyOverhead) << "useless copies count too";
}

// rsync --inplace -t or cp -p: new bytes, the same size, the old modification time put back.
// The change time moved: a new copy.
TEST_F(CompressorTest, AFileRewrittenWithItsOldSizeAndTimeGetsANewCopy) {
  const std::string v1 = text(20'000, 1);
  write("d.js", v1);
  struct stat before {};
  ASSERT_EQ(stat((root_ + "/d.js").c_str(), &before), 0);
  Compressor compressor({});
  compressor.get_or_schedule(file("d.js"), Coding::kZstd, 3);
  compressor.wait_idle();
  ASSERT_TRUE(compressor.get_or_schedule(file("d.js"), Coding::kZstd, 3));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a later change time
  std::string v2 = v1;
  v2[5] = '#';
  write("d.js", v2);
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, (root_ + "/d.js").c_str(), times, 0), 0);
  const auto now = file("d.js");
  ASSERT_EQ(now->identity.info.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  ASSERT_EQ(now->identity.info.st_size, before.st_size);
  EXPECT_FALSE(compressor.get_or_schedule(now, Coding::kZstd, 3)) << "the old copy was served";
  compressor.wait_idle();
  const auto copy = compressor.get_or_schedule(file("d.js"), Coding::kZstd, 3);
  ASSERT_TRUE(copy);
  EXPECT_EQ(unzstd(copy->bytes), v2);
}

TEST_F(CompressorTest, AFileLargerThanTheWholeLimitIsNotCompressed) {
  Compressor::Limits limits;
  limits.memory = 1000;
  Compressor compressor(limits);
  write("big.css", text(5000, 2));
  EXPECT_FALSE(compressor.get_or_schedule(file("big.css"), Coding::kGzip, 6));
  compressor.wait_idle();
  EXPECT_FALSE(compressor.get_or_schedule(file("big.css"), Coding::kGzip, 6));
  EXPECT_EQ(compressor.counters().compressed.load(), 0u);
}

TEST_F(CompressorTest, ShutsDownWithJobsQueued) {
  std::vector<std::shared_ptr<const CachedFile>> files;
  for (int i = 0; i < 20; ++i) {
    write("q" + std::to_string(i), text(100'000, i + 1));
    files.push_back(file("q" + std::to_string(i)));
  }
  Compressor::Limits limits;
  limits.queue = 4;
  {
    Compressor compressor(limits);
    for (const auto& f : files)
      compressor.get_or_schedule(f, Coding::kBrotli, 5);
    EXPECT_GT(compressor.counters().dropped.load(), 0u) << "a queue of 4 took 20 slow jobs";
  }  // joins after the job in progress; queued jobs are dropped, not made
  SUCCEED();
}

// A second pass at a stronger level replaces the first copy once it is made and smaller: a new
// copy (and ETag) under the same request, decoding to the same file.
TEST_F(CompressorTest, ASecondPassReplacesTheFirstCopyWhenSmaller) {
  const std::string content = text(200'000, 7);
  write("e.js", content);
  Compressor compressor({});
  EXPECT_FALSE(compressor.get_or_schedule(file("e.js"), Coding::kZstd, 1, 19));
  compressor.wait_idle();  // both passes
  const auto copy = compressor.get_or_schedule(file("e.js"), Coding::kZstd, 1, 19);
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->level, 19);
  EXPECT_EQ(unzstd(copy->bytes), content);
  EXPECT_EQ(compressor.counters().compressed.load(), 2u);
  EXPECT_EQ(compressor.copies(), 1u) << "the second pass replaces, it does not add";
  EXPECT_EQ(compressor.memory_held(), copy->bytes.size() + Compressor::kCopyOverhead);
  const std::string quick = *compress(Coding::kZstd, 1, content);
  EXPECT_LT(copy->bytes.size(), quick.size());
  EXPECT_NE(copy->etag.find(".19."), std::string::npos) << copy->etag;
  // Without a second level the first copy stays.
  write("f.js", content + "// f");
  compressor.get_or_schedule(file("f.js"), Coding::kZstd, 1);
  compressor.wait_idle();
  EXPECT_EQ(compressor.get_or_schedule(file("f.js"), Coding::kZstd, 1)->level, 1);
}

}  // namespace
}  // namespace cork
