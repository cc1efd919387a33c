// ConnHandle: fd and generation survive the round trip, and a reused fd number with a new
// generation is a different handle (the fd-reuse confusion the queue must not have).
#include <gtest/gtest.h>

#include "server/connection.h"

namespace cork {
namespace {

TEST(ConnHandle, RoundTripsFdAndGeneration) {
  const ConnHandle h = ConnHandle::make(1234, 0xdeadbeef);
  EXPECT_EQ(h.fd(), 1234);
  EXPECT_EQ(h.generation(), 0xdeadbeefu);
  const ConnHandle max_fd = ConnHandle::make(0x7fffffff, 1);
  EXPECT_EQ(max_fd.fd(), 0x7fffffff);
  EXPECT_EQ(max_fd.generation(), 1u);
}

TEST(ConnHandle, ReusedFdWithNewGenerationDiffers) {
  EXPECT_FALSE(ConnHandle::make(7, 1) == ConnHandle::make(7, 2));
  EXPECT_TRUE(ConnHandle::make(7, 2) == ConnHandle::make(7, 2));
}

}  // namespace
}  // namespace cork
