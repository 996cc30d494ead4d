// The names of socket options in exec's steps: each against the kernel's
// own headers (the macros, not numbers copied by hand), and an option or
// level the table does not know stays a number.
#include <gtest/gtest.h>

// The kernel's uapi headers only (glibc's netinet/in.h would clash with
// linux/in.h): the names the table claims to follow.
#include <asm/socket.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/tcp.h>

#include <cstring>

#include "captured_call.h"
#include "socket_options.h"
#include "syscalls.h"

namespace tcpscope {
namespace {

#define EXPECT_NAMED(level, option) EXPECT_EQ(sockopt_name(level, option), #option)

TEST(SocketOptions, LevelsByName) {
    EXPECT_EQ(sockopt_level_name(SOL_SOCKET), "SOL_SOCKET");
    EXPECT_EQ(sockopt_level_name(IPPROTO_TCP), "IPPROTO_TCP");
    EXPECT_EQ(sockopt_level_name(IPPROTO_IP), "IPPROTO_IP");
    EXPECT_EQ(sockopt_level_name(IPPROTO_IPV6), "IPPROTO_IPV6");
    EXPECT_EQ(sockopt_level_name(IPPROTO_UDP), "17");
}

TEST(SocketOptions, SocketLevelAsTheHeadersNumberIt) {
    EXPECT_NAMED(SOL_SOCKET, SO_REUSEADDR);
    EXPECT_NAMED(SOL_SOCKET, SO_ERROR);
    EXPECT_NAMED(SOL_SOCKET, SO_KEEPALIVE);
    EXPECT_NAMED(SOL_SOCKET, SO_LINGER);
    EXPECT_NAMED(SOL_SOCKET, SO_REUSEPORT);
    EXPECT_NAMED(SOL_SOCKET, SO_SNDBUF);
    EXPECT_NAMED(SOL_SOCKET, SO_RCVBUF);
    EXPECT_NAMED(SOL_SOCKET, SO_RCVLOWAT);
    EXPECT_NAMED(SOL_SOCKET, SO_BINDTODEVICE);
    EXPECT_NAMED(SOL_SOCKET, SO_MARK);
    EXPECT_NAMED(SOL_SOCKET, SO_PRIORITY);
    EXPECT_NAMED(SOL_SOCKET, SO_COOKIE);
    EXPECT_NAMED(SOL_SOCKET, SO_INCOMING_CPU);
    EXPECT_NAMED(SOL_SOCKET, SO_ZEROCOPY);
    EXPECT_NAMED(SOL_SOCKET, SO_BUSY_POLL);
    EXPECT_NAMED(SOL_SOCKET, SO_MAX_PACING_RATE);
    EXPECT_NAMED(SOL_SOCKET, SO_RCVTIMEO_NEW);
    EXPECT_NAMED(SOL_SOCKET, SO_SNDTIMEO_NEW);
    EXPECT_NAMED(SOL_SOCKET, SO_NETNS_COOKIE);
    EXPECT_NAMED(SOL_SOCKET, SO_TXREHASH);
    // x86_64's SO_RCVTIMEO is the _OLD number; the table keeps the short name.
    EXPECT_EQ(sockopt_name(SOL_SOCKET, SO_RCVTIMEO_OLD), "SO_RCVTIMEO");
}

TEST(SocketOptions, TcpLevelAsTheHeadersNumberIt) {
    EXPECT_NAMED(IPPROTO_TCP, TCP_NODELAY);
    EXPECT_NAMED(IPPROTO_TCP, TCP_MAXSEG);
    EXPECT_NAMED(IPPROTO_TCP, TCP_CORK);
    EXPECT_NAMED(IPPROTO_TCP, TCP_KEEPIDLE);
    EXPECT_NAMED(IPPROTO_TCP, TCP_KEEPINTVL);
    EXPECT_NAMED(IPPROTO_TCP, TCP_KEEPCNT);
    EXPECT_NAMED(IPPROTO_TCP, TCP_SYNCNT);
    EXPECT_NAMED(IPPROTO_TCP, TCP_LINGER2);
    EXPECT_NAMED(IPPROTO_TCP, TCP_DEFER_ACCEPT);
    EXPECT_NAMED(IPPROTO_TCP, TCP_WINDOW_CLAMP);
    EXPECT_NAMED(IPPROTO_TCP, TCP_INFO);
    EXPECT_NAMED(IPPROTO_TCP, TCP_QUICKACK);
    EXPECT_NAMED(IPPROTO_TCP, TCP_CONGESTION);
    EXPECT_NAMED(IPPROTO_TCP, TCP_USER_TIMEOUT);
    EXPECT_NAMED(IPPROTO_TCP, TCP_FASTOPEN);
    EXPECT_NAMED(IPPROTO_TCP, TCP_NOTSENT_LOWAT);
    EXPECT_NAMED(IPPROTO_TCP, TCP_FASTOPEN_CONNECT);
    EXPECT_NAMED(IPPROTO_TCP, TCP_ULP);
    EXPECT_NAMED(IPPROTO_TCP, TCP_INQ);
    EXPECT_NAMED(IPPROTO_TCP, TCP_TX_DELAY);
}

TEST(SocketOptions, IpAndIpv6LevelsAsTheHeadersNumberThem) {
    EXPECT_NAMED(IPPROTO_IP, IP_TOS);
    EXPECT_NAMED(IPPROTO_IP, IP_TTL);
    EXPECT_NAMED(IPPROTO_IP, IP_RECVTOS);
    EXPECT_NAMED(IPPROTO_IP, IP_MTU_DISCOVER);
    EXPECT_NAMED(IPPROTO_IP, IP_RECVERR);
    EXPECT_NAMED(IPPROTO_IP, IP_FREEBIND);
    EXPECT_NAMED(IPPROTO_IP, IP_TRANSPARENT);
    EXPECT_NAMED(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT);
    EXPECT_NAMED(IPPROTO_IP, IP_LOCAL_PORT_RANGE);
    EXPECT_NAMED(IPPROTO_IP, IP_MULTICAST_TTL);
    EXPECT_NAMED(IPPROTO_IPV6, IPV6_V6ONLY);
    EXPECT_NAMED(IPPROTO_IPV6, IPV6_TCLASS);
    EXPECT_NAMED(IPPROTO_IPV6, IPV6_UNICAST_HOPS);
    EXPECT_NAMED(IPPROTO_IPV6, IPV6_MTU_DISCOVER);
    EXPECT_NAMED(IPPROTO_IPV6, IPV6_RECVERR);
    EXPECT_NAMED(IPPROTO_IPV6, IPV6_TRANSPARENT);
    EXPECT_NAMED(IPPROTO_IPV6, IPV6_FREEBIND);
    EXPECT_NAMED(IPPROTO_IPV6, IPV6_DONTFRAG);
    // The same number at another level is another option.
    EXPECT_NE(sockopt_name(IPPROTO_IP, 26), "IPV6_V6ONLY");
}

TEST(SocketOptions, UnknownOptionsStayNumbersWithTheirLevelNamed) {
    EXPECT_EQ(sockopt_name(IPPROTO_IPV6, 999), "IPPROTO_IPV6/999");
    EXPECT_EQ(sockopt_name(IPPROTO_TCP, 999), "IPPROTO_TCP/999");
    EXPECT_EQ(sockopt_name(SOL_SOCKET, 999), "SOL_SOCKET/999");
    EXPECT_EQ(sockopt_name(280, 1), "280/1");  // SOL_ALG: not a TCP socket's
    EXPECT_EQ(sockopt_value_kind(280, 1), OptionValue::Int);
}

TEST(SocketOptions, IssueExampleReadsByName) {
    // #27: `setsockopt(3, 41/26 0)` is IPV6_V6ONLY, value 0, in the step's
    // text and its JSON `arg`.
    ts_call r{};
    r.nr = 54;  // setsockopt
    r.args[0] = 3;
    r.args[1] = IPPROTO_IPV6;
    r.args[2] = IPV6_V6ONLY;
    r.optval = 0;
    r.optval_valid = 1;
    auto c = decode_call(&r, sizeof(r));
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->step.arg, "IPV6_V6ONLY");
    EXPECT_EQ(c->step.call, "setsockopt(3, IPV6_V6ONLY 0)");
    EXPECT_EQ(c->step.size, 0);
}

TEST(SocketOptions, ValuesShownOnlyWhereTheirFirstIntMeansSomething) {
    ts_call r{};
    r.nr = 54;
    r.args[0] = 4;
    r.optval_valid = 1;
    r.args[1] = IPPROTO_TCP;
    r.args[2] = TCP_CONGESTION;  // a string: "cubic" read as an int means nothing
    std::memcpy(&r.optval, "cubi", 4);
    auto c = decode_call(&r, sizeof(r));
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->step.call, "setsockopt(4, TCP_CONGESTION)");
    r.args[1] = SOL_SOCKET;
    r.args[2] = SO_LINGER;
    r.optval = 1;
    c = decode_call(&r, sizeof(r));
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->step.call, "setsockopt(4, SO_LINGER {1,...})");
    r.args[2] = SO_KEEPALIVE;
    c = decode_call(&r, sizeof(r));
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->step.call, "setsockopt(4, SO_KEEPALIVE 1)");
    EXPECT_EQ(c->step.size, 1);
}

}  // namespace
}  // namespace tcpscope
