// ResponseSender: head and inline body, file pieces in order, resumption after the socket
// buffer fills, the per-wake budget, and a file that shrinks under it. Over a socketpair, with
// real sendfile(), no server.
#include "server/response_sender.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "server/server_test_support.h"
#include "server/unique_fd.h"

namespace cork {
namespace {

class ResponseSenderTest : public ::testing::Test {
 protected:
  std::string drain() { return testing::receive_available(client_.get()); }

  UniqueFd open_file(const std::string& name, const std::string& content) {
    root_.write_file(name, content);
    return UniqueFd(::open((root_.path() / name).c_str(), O_RDONLY | O_CLOEXEC));
  }

  testing::TempRoot root_;
  testing::SocketPair pair_;
  UniqueFd& server_ = pair_.server;
  UniqueFd& client_ = pair_.client;
  ResponseSender sender_;
};

TEST_F(ResponseSenderTest, HeadAndInlineBodyInOrder) {
  ResponsePlan plan;
  plan.status = 200;
  plan.head = "HEAD\r\n\r\n";
  plan.borrowed_body = "body";
  sender_.start(std::move(plan));
  std::uint64_t budget = 1 << 20;
  EXPECT_EQ(sender_.send(server_.get(), budget), ResponseSender::Result::kDone);
  EXPECT_EQ(drain(), "HEAD\r\n\r\nbody");
  EXPECT_EQ(sender_.head_bytes_sent(), 8u);
  EXPECT_EQ(sender_.body_bytes_sent(), 4u);
  EXPECT_EQ(budget, 1u << 20) << "the budget counts file bytes only";
}

TEST_F(ResponseSenderTest, PiecesInterleaveMemoryAndFileBytes) {
  UniqueFd file = open_file("f.txt", "0123456789abcdefghij");
  ResponsePlan plan;
  plan.head = "H\r\n\r\n";
  plan.file_fd = file.get();
  plan.pieces.push_back({"[a]", 2, 3});
  plan.pieces.push_back({"[b]", 10, 5});
  plan.pieces.push_back({"[end]", 0, 0});
  sender_.start(std::move(plan));
  std::uint64_t budget = 1 << 20;
  EXPECT_EQ(sender_.send(server_.get(), budget), ResponseSender::Result::kDone);
  EXPECT_EQ(drain(), "H\r\n\r\n[a]234[b]abcde[end]");
  EXPECT_EQ(sender_.body_bytes_sent(), 3u + 3 + 3 + 5 + 5);
  EXPECT_EQ(budget, (1u << 20) - 8);
}

TEST_F(ResponseSenderTest, ResumesAfterTheSocketBufferFills) {
  const std::string content(4 * 1024 * 1024, 'x');
  UniqueFd file = open_file("big", content);
  ResponsePlan plan;
  plan.head = std::string(1000, 'h');
  plan.file_fd = file.get();
  plan.pieces.push_back({{}, 0, content.size()});
  sender_.start(std::move(plan));
  std::string received;
  int blocked = 0;
  for (int round = 0; round < 10'000; ++round) {
    std::uint64_t budget = 64 * 1024 * 1024;
    const ResponseSender::Result r = sender_.send(server_.get(), budget);
    received += drain();
    if (r == ResponseSender::Result::kDone) break;
    ASSERT_EQ(r, ResponseSender::Result::kBlocked);
    ++blocked;
  }
  received += drain();
  EXPECT_GT(blocked, 0) << "4 MiB must not fit a socketpair's buffer at once";
  EXPECT_EQ(received.size(), 1000 + content.size());
  EXPECT_EQ(received.substr(1000), content);
}

TEST_F(ResponseSenderTest, YieldsWhenTheBudgetIsSpent) {
  // More than one sendfile() chunk: the budget is looked at between chunks.
  const std::string content(1024 * 1024, 'y');
  UniqueFd file = open_file("f", content);
  ResponsePlan plan;
  plan.head = "H";
  plan.file_fd = file.get();
  plan.pieces.push_back({{}, 0, content.size()});
  sender_.start(std::move(plan));
  std::uint64_t budget = 1000;
  EXPECT_EQ(sender_.send(server_.get(), budget), ResponseSender::Result::kYield);
  EXPECT_EQ(budget, 0u);
  std::string received = drain();
  for (int i = 0; i < 10'000; ++i) {
    std::uint64_t more = 1 << 20;
    if (sender_.send(server_.get(), more) == ResponseSender::Result::kDone) break;
    received += drain();
  }
  received += drain();
  EXPECT_EQ(received, "H" + content);
}

TEST_F(ResponseSenderTest, ContinueGoesBeforeTheHead) {
  sender_.queue_continue();
  EXPECT_TRUE(sender_.continue_pending());
  ResponsePlan plan;
  plan.head = "HEAD\r\n\r\n";
  sender_.start(std::move(plan));
  std::uint64_t budget = 0;
  EXPECT_EQ(sender_.send(server_.get(), budget), ResponseSender::Result::kDone);
  EXPECT_EQ(drain(), "HTTP/1.1 100 Continue\r\n\r\nHEAD\r\n\r\n");
  EXPECT_FALSE(sender_.continue_pending());
  EXPECT_EQ(sender_.continue_bytes_sent(), 25u);
  EXPECT_EQ(sender_.head_bytes_sent(), 8u);
  sender_.finish();
  EXPECT_EQ(sender_.continue_bytes_sent(), 0u) << "the next response has none";
}

// A 100 Continue that meets a full socket waits, and is finished before the final response,
// even one that replaced the plan meanwhile (a 408).
TEST_F(ResponseSenderTest, ContinueThatMeetsAFullSocketIsFinishedFirst) {
  const std::string filler(4096, 'f');
  std::size_t filled = 0;
  for (ssize_t n; (n = ::send(server_.get(), filler.data(), filler.size(), MSG_DONTWAIT)) > 0;)
    filled += static_cast<std::size_t>(n);
  ResponsePlan first;
  first.head = "FIRST\r\n\r\n";
  sender_.start(std::move(first));
  sender_.queue_continue();
  EXPECT_EQ(sender_.send_continue(server_.get()), ResponseSender::Result::kBlocked);
  EXPECT_TRUE(sender_.continue_pending());
  std::string received = drain();
  ResponsePlan second;
  second.head = "SECOND\r\n\r\n";
  sender_.start(std::move(second));
  EXPECT_TRUE(sender_.continue_pending()) << "a new plan does not drop the queued 100";
  std::uint64_t budget = 0;
  for (int i = 0; i < 1000; ++i) {
    if (sender_.send(server_.get(), budget) == ResponseSender::Result::kDone) break;
    received += drain();
  }
  received += drain();
  ASSERT_GE(received.size(), filled);
  EXPECT_EQ(received.substr(filled), "HTTP/1.1 100 Continue\r\n\r\nSECOND\r\n\r\n");
}

TEST_F(ResponseSenderTest, FileShorterThanPlannedIsTruncatedNotPadded) {
  UniqueFd file = open_file("short", "abc");
  ResponsePlan plan;
  plan.head = "H";
  plan.file_fd = file.get();
  plan.pieces.push_back({{}, 0, 10});
  sender_.start(std::move(plan));
  std::uint64_t budget = 1 << 20;
  EXPECT_EQ(sender_.send(server_.get(), budget), ResponseSender::Result::kTruncated);
  EXPECT_EQ(drain(), "Habc");
}

TEST_F(ResponseSenderTest, PeerGoneFails) {
  client_.reset();
  ResponsePlan plan;
  plan.head = "H";
  sender_.start(std::move(plan));
  std::uint64_t budget = 1;
  EXPECT_EQ(sender_.send(server_.get(), budget), ResponseSender::Result::kFailed);
}

TEST_F(ResponseSenderTest, FinishDropsTheFileEntry) {
  ResponsePlan plan;
  plan.head = "H";
  sender_.start(std::move(plan));
  EXPECT_TRUE(sender_.active());
  sender_.finish();
  EXPECT_FALSE(sender_.active());
  EXPECT_FALSE(sender_.plan().file);
}

}  // namespace
}  // namespace cork
