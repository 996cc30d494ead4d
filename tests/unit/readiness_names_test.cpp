// The names of readiness bits, shared by the scenario programs (which write
// them) and the facts (which read the number beside them).
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/epoll.h>

#include "readiness.h"

namespace tcpscope {
namespace {

TEST(ReadinessNames, MatchTheKernelsNumbering) {
    EXPECT_EQ(kReadyIn, static_cast<uint32_t>(POLLIN));
    EXPECT_EQ(kReadyOut, static_cast<uint32_t>(POLLOUT));
    EXPECT_EQ(kReadyErr, static_cast<uint32_t>(POLLERR));
    EXPECT_EQ(kReadyHup, static_cast<uint32_t>(POLLHUP));
    EXPECT_EQ(kReadyRdhup, static_cast<uint32_t>(POLLRDHUP));
    EXPECT_EQ(kReadyRdhup, static_cast<uint32_t>(EPOLLRDHUP));
    EXPECT_EQ(kReadyEdgeTriggered, static_cast<uint32_t>(EPOLLET));
}

TEST(ReadinessNames, NameTheBitsInOrder) {
    EXPECT_EQ(readiness_names(0x2005), "IN|OUT|RDHUP");
    EXPECT_EQ(readiness_names(0x201d), "IN|OUT|ERR|HUP|RDHUP");
    EXPECT_EQ(readiness_names(kReadyIn | kReadyEdgeTriggered), "IN|ET");
    EXPECT_EQ(readiness_names(0), "0");
    EXPECT_EQ(readiness_names(0x4000 | kReadyIn), "IN|0x4000");
}

TEST(ReadinessNames, ReadBack) {
    EXPECT_EQ(readiness_from_names("IN|OUT|ERR|HUP|RDHUP"), 0x201du);
    EXPECT_EQ(readiness_from_names("IN|RDHUP|ET"), kReadyIn | kReadyRdhup | kReadyEdgeTriggered);
    EXPECT_EQ(readiness_from_names("0"), 0u);
    EXPECT_FALSE(readiness_from_names("IN|BOGUS").has_value());
    EXPECT_FALSE(readiness_from_names("").has_value());
}

}  // namespace
}  // namespace tcpscope
