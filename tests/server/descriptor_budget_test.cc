// DescriptorBudget: connections first, the file cache gets what is left, max_connections shrinks
// only when the hard limit cannot hold it beside a minimal cache.
#include "server/descriptor_budget.h"

#include <gtest/gtest.h>

namespace cork {
namespace {

DescriptorNeeds needs(std::size_t connections, std::size_t workers, std::size_t entries,
                      bool precompressed = true) {
  DescriptorNeeds n;
  n.connections = connections;
  n.workers = workers;
  n.file_cache_entries = entries;
  n.precompressed = precompressed;
  return n;
}

TEST(DescriptorBudget, AGenerousLimitGivesEveryoneWhatTheyAskAndSetsTheSoftLimitToIt) {
  const DescriptorBudget b = plan_descriptors(needs(10'000, 2, 4096), 1'048'576);
  EXPECT_EQ(b.server, DescriptorBudget::kServerFiles + 2 * DescriptorBudget::kPerWorker);
  EXPECT_EQ(b.connections, 10'000u);
  EXPECT_EQ(b.file_cache, 4096u * 4);  // a file and its .br, .gz and .zst siblings
  EXPECT_EQ(b.limit, b.server + b.connections + b.file_cache);
  EXPECT_FALSE(b.connections_lowered());
  EXPECT_EQ(plan_descriptors(needs(10'000, 2, 4096, false), RLIM_INFINITY).file_cache, 4096u);
}

TEST(DescriptorBudget, TheCacheShrinksBeforeConnectionsDo) {
  // Issue 11: 4,000 cached files and 9,000 clients under max_connections 10,000.
  const DescriptorBudget b = plan_descriptors(needs(10'000, 2, 4096), 20'000);
  EXPECT_EQ(b.limit, 20'000u);
  EXPECT_EQ(b.connections, 10'000u);
  EXPECT_EQ(b.file_cache, 20'000u - 10'000u - b.server);
  EXPECT_FALSE(b.connections_lowered());
}

TEST(DescriptorBudget, ConnectionsAreLoweredOnlyBesideAMinimalCache) {
  const DescriptorBudget b = plan_descriptors(needs(10'000, 2, 4096), 128);
  EXPECT_EQ(b.limit, 128u);
  EXPECT_EQ(b.file_cache, DescriptorBudget::kMinFileCache);
  EXPECT_EQ(b.connections, 128u - b.server - DescriptorBudget::kMinFileCache);
  EXPECT_TRUE(b.connections_lowered());
  EXPECT_NE(lowered_connections_warning(b).find("max_connections 10000 lowered to"),
            std::string::npos);
  EXPECT_EQ(b.server + b.connections + b.file_cache, b.limit);
}

TEST(DescriptorBudget, NoCacheWantedLeavesEverythingToConnections) {
  const DescriptorBudget b = plan_descriptors(needs(10'000, 1, 0), 1000);
  EXPECT_EQ(b.file_cache, 0u);
  EXPECT_EQ(b.connections, 1000u - b.server);
}

TEST(DescriptorBudget, ALimitBelowTheServersOwnFilesHoldsNoConnection) {
  EXPECT_EQ(plan_descriptors(needs(10, 2, 4096), 32).connections, 0u);
  EXPECT_EQ(plan_descriptors(needs(10, 2, 4096), 0).connections, 0u);
}

TEST(DescriptorBudget, DescribesItselfInOneLine) {
  const DescriptorBudget b = plan_descriptors(needs(100, 1, 10), 10'000);
  EXPECT_EQ(b.describe(),
            "descriptors 176 (hard limit 10000): 100 connections, 40 file cache, 36 "
            "server");
}

}  // namespace
}  // namespace cork
