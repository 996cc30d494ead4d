// Names for kernel numbers: states, errnos, signals, TCP flags, reset reasons.
#include <cerrno>
#include <climits>
#include <csignal>
#include <map>

#include <gtest/gtest.h>

#include "names.h"
#include "tcpscope.h"

namespace tcpscope {
namespace {

TEST(Names, EveryTcpStateNamed) {
    // include/net/tcp_states.h
    const std::map<int, std::string> expected = {
        {1, "ESTABLISHED"}, {2, "SYN_SENT"},   {3, "SYN_RECV"},   {4, "FIN_WAIT1"},
        {5, "FIN_WAIT2"},   {6, "TIME_WAIT"},  {7, "CLOSE"},      {8, "CLOSE_WAIT"},
        {9, "LAST_ACK"},    {10, "LISTEN"},    {11, "CLOSING"},   {12, "NEW_SYN_RECV"},
    };
    for (const auto& [value, name] : expected) {
        EXPECT_EQ(tcp_state_name(value), name) << value;
        auto back = tcp_state_from_name(name);
        ASSERT_TRUE(back.has_value()) << name;
        EXPECT_EQ(*back, value);
    }
}

TEST(Names, KnownStateNameIsTheSameNameAsAConstant) {
    for (int value = 1; value <= 13; ++value) {
        const char* known = known_tcp_state_name(value);
        ASSERT_NE(known, nullptr) << value;
        EXPECT_EQ(known, tcp_state_name(value)) << value;
    }
    for (int value : {0, -1, 14, 99, INT_MIN, INT_MAX}) {
        EXPECT_EQ(known_tcp_state_name(value), nullptr) << value;
    }
}

TEST(Names, OutOfRangeStates) {
    EXPECT_EQ(tcp_state_name(0), "STATE_0");
    EXPECT_EQ(tcp_state_name(-1), "STATE_-1");
    EXPECT_EQ(tcp_state_name(99), "STATE_99");
    EXPECT_EQ(tcp_state_name(INT_MIN), "STATE_" + std::to_string(INT_MIN));
    EXPECT_EQ(tcp_state_name(INT_MAX), "STATE_" + std::to_string(INT_MAX));
    EXPECT_FALSE(tcp_state_from_name("STATE_0").has_value());
    EXPECT_FALSE(tcp_state_from_name("").has_value());
    EXPECT_FALSE(tcp_state_from_name("established").has_value());
}

TEST(Names, Errnos) {
    EXPECT_EQ(errno_name(EPIPE), "EPIPE");
    EXPECT_EQ(errno_name(ECONNRESET), "ECONNRESET");
    EXPECT_EQ(errno_name(ECONNREFUSED), "ECONNREFUSED");
    EXPECT_EQ(errno_name(ETIMEDOUT), "ETIMEDOUT");
    EXPECT_EQ(errno_name(EAGAIN), "EAGAIN");
    EXPECT_EQ(errno_name(104), "ECONNRESET");
    EXPECT_EQ(errno_name(111), "ECONNREFUSED");
    EXPECT_EQ(errno_name(32), "EPIPE");
    EXPECT_EQ(errno_name(110), "ETIMEDOUT");
    // Negative errno (as the kernel returns them) names the same error.
    EXPECT_EQ(errno_name(-EPIPE), "EPIPE");
    EXPECT_EQ(errno_name(-ECONNRESET), "ECONNRESET");
    // Unnamed values keep their number.
    EXPECT_EQ(errno_name(0), "E0");
    EXPECT_EQ(errno_name(4095), "E4095");
    EXPECT_EQ(errno_name(-4095), "E4095");
    auto v = errno_from_name("ECONNREFUSED");
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, ECONNREFUSED);
    EXPECT_FALSE(errno_from_name("E4095").has_value());
    EXPECT_FALSE(errno_from_name("epipe").has_value());
}

TEST(Names, ErrnoNameOfIntMinDoesNotOverflow) {
    // -INT_MIN is undefined behaviour; the result must still be a name.
    std::string n = errno_name(INT_MIN);
    EXPECT_FALSE(n.empty());
    EXPECT_EQ(n[0], 'E');
}

TEST(Names, Signals) {
    EXPECT_EQ(signal_name(SIGPIPE), "SIGPIPE");
    EXPECT_EQ(signal_name(13), "SIGPIPE");
    EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
    EXPECT_EQ(signal_name(SIGURG), "SIGURG");
    EXPECT_EQ(signal_name(0), "SIG0");
    EXPECT_EQ(signal_name(64), "SIG64");
    EXPECT_EQ(signal_name(-1), "SIG-1");
}

TEST(Names, TcpFlagsOrder) {
    EXPECT_EQ(tcp_flags_name(0), "");
    EXPECT_EQ(tcp_flags_name(TS_TCP_SYN), "SYN");
    EXPECT_EQ(tcp_flags_name(TS_TCP_SYN | TS_TCP_ACK), "SYN|ACK");
    EXPECT_EQ(tcp_flags_name(TS_TCP_FIN | TS_TCP_ACK), "FIN|ACK");
    EXPECT_EQ(tcp_flags_name(TS_TCP_RST | TS_TCP_ACK), "RST|ACK");
    EXPECT_EQ(tcp_flags_name(TS_TCP_RST), "RST");
    EXPECT_EQ(tcp_flags_name(TS_TCP_PSH | TS_TCP_ACK), "PSH|ACK");
    EXPECT_EQ(tcp_flags_name(TS_TCP_FIN | TS_TCP_PSH | TS_TCP_ACK), "FIN|PSH|ACK");
    EXPECT_EQ(tcp_flags_name(TS_TCP_SYN | TS_TCP_ECE | TS_TCP_CWR), "SYN|ECE|CWR");
    EXPECT_EQ(tcp_flags_name(0xff), "SYN|RST|FIN|PSH|ACK|URG|ECE|CWR");
}

TEST(Names, ResetReasonsCustomMap) {
    ResetReasons reasons({{0, "NOT_SPECIFIED"}, {1, "NO_SOCKET"}, {14, "TCP_STATE"}});
    EXPECT_FALSE(reasons.empty());
    EXPECT_EQ(reasons.name(0), "NOT_SPECIFIED");
    EXPECT_EQ(reasons.name(1), "NO_SOCKET");
    EXPECT_EQ(reasons.name(14), "TCP_STATE");
    EXPECT_EQ(reasons.name(2), "REASON_2");
    EXPECT_EQ(reasons.name(-1), "REASON_-1");
    EXPECT_EQ(reasons.name(INT_MAX), "REASON_" + std::to_string(INT_MAX));
    ASSERT_TRUE(reasons.value("TCP_STATE").has_value());
    EXPECT_EQ(*reasons.value("TCP_STATE"), 14);
    EXPECT_FALSE(reasons.value("REASON_2").has_value());
}

TEST(Names, EmptyResetReasons) {
    ResetReasons none;
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(none.name(1), "REASON_1");
    EXPECT_FALSE(none.value("NO_SOCKET").has_value());
}

}  // namespace
}  // namespace tcpscope
