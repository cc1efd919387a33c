// ConnectionTable: handles name one connection only (a reused fd number gets a new
// generation), a socket beyond the table is handed back, close() and close_all() are the close
// path (the socket is closed, the counters balance), and LoopThread knows its thread.
#include "server/connection_table.h"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include <thread>

#include "server/access_log.h"
#include "server/server_test_support.h"

namespace cork {
namespace {

class ConnectionTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Config config;
    config.access_log = "off";
    settings_ = testing::settings_for(root_, config);
    context_ = std::make_unique<ServerContext>(log_, access_log_, clock_, settings_);
  }

  // A connected socket for the table and its peer, kept by the test.
  UniqueFd socket() {
    testing::SocketPair pair;
    peers_.push_back(std::move(pair.client));
    return std::move(pair.server);
  }

  Connection* open(ConnectionTable& table, UniqueFd& s) {
    return table.open(s, testing::loopback_peer(), *context_, handler_, clock_.monotonic_ms());
  }

  testing::TempRoot root_;
  testing::FakeClock clock_;
  testing::FixedGauges gauges_;
  Logger log_;
  AccessLog access_log_{log_, 16};
  Metrics metrics_;
  RequestHandler handler_{log_, metrics_, gauges_};
  std::shared_ptr<const Settings> settings_;
  std::unique_ptr<ServerContext> context_;
  std::vector<UniqueFd> peers_;
  LoopThread loop_;
};

TEST_F(ConnectionTableTest, ReusedFdNumberIsANewConnection) {
  ConnectionTable table(4096, metrics_, loop_);
  UniqueFd s = socket();
  const int fd = s.get();
  Connection* first = open(table, s);
  ASSERT_NE(first, nullptr);
  EXPECT_FALSE(s) << "the table took the socket";
  const ConnHandle old_handle = first->handle();
  EXPECT_EQ(table.find(old_handle), first);
  EXPECT_EQ(table.live(), 1u);
  EXPECT_EQ(metrics_.connections_open.load(), 1);
  table.close(*first);
  EXPECT_EQ(table.find(old_handle), nullptr);
  EXPECT_EQ(table.live(), 0u);
  EXPECT_EQ(metrics_.connections_open.load(), 0);
  char byte;
  EXPECT_EQ(::recv(peers_.back().get(), &byte, 1, 0), 0)
      << "closing the connection closes its socket";

  UniqueFd again = socket();
  ASSERT_EQ(again.get(), fd) << "the kernel reuses the lowest free number";
  Connection* second = open(table, again);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->fd(), fd);
  EXPECT_EQ(table.find(old_handle), nullptr) << "a stale handle must not find the new connection";
  EXPECT_EQ(table.find(second->handle()), second);
  EXPECT_EQ(&table.owned(second->handle()), second);
  EXPECT_EQ(table.close_all(), 1u);
  EXPECT_EQ(table.live(), 0u);
}

TEST_F(ConnectionTableTest, SocketBeyondTheTableIsHandedBack) {
  ConnectionTable table(1, metrics_, loop_);  // only fd 0 would fit
  UniqueFd s = socket();
  EXPECT_EQ(open(table, s), nullptr);
  EXPECT_TRUE(s) << "the caller keeps the socket to answer 503";
  EXPECT_EQ(table.live(), 0u);
}

TEST_F(ConnectionTableTest, ForEachMayCloseWhatItVisits) {
  ConnectionTable table(4096, metrics_, loop_);
  for (int i = 0; i < 5; ++i) {
    UniqueFd s = socket();
    ASSERT_NE(open(table, s), nullptr);
  }
  int visited = 0;
  table.for_each([&](Connection& c) {
    ++visited;
    if (visited % 2 == 1) table.close(c);
  });
  EXPECT_EQ(visited, 5);
  EXPECT_EQ(table.live(), 2u);
}

TEST(LoopThread, KnowsItsThread) {
  LoopThread loop;
  EXPECT_TRUE(loop.here()) << "unbound: set-up code may run anywhere";
  loop.bind();
  EXPECT_TRUE(loop.here());
  bool elsewhere = true;
  std::thread([&] { elsewhere = loop.here(); }).join();
  EXPECT_FALSE(elsewhere);
}

}  // namespace
}  // namespace cork
