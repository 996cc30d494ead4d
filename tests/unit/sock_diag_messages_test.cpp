// The replies of a sock_diag dump, as the kernel lays them out, read
// into a snapshot; a late reply of an earlier dump is not this one's.
#include "sock_diag_messages.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace tcpscope {
namespace {

// Appends one netlink message (header, payload) to buf.
void append_message(std::vector<char>& buf, uint16_t type, uint32_t seq, const void* payload,
                    size_t len) {
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(len));
    h.nlmsg_type = type;
    h.nlmsg_flags = NLM_F_MULTI;
    h.nlmsg_seq = seq;
    size_t at = buf.size();
    buf.resize(at + NLMSG_ALIGN(h.nlmsg_len));
    std::memcpy(buf.data() + at, &h, sizeof(h));
    if (len) std::memcpy(buf.data() + at + NLMSG_HDRLEN, payload, len);
}

void append_socket(std::vector<char>& buf, uint32_t seq, uint16_t sport, uint8_t state) {
    inet_diag_msg m{};
    m.idiag_family = AF_INET;
    m.idiag_state = state;
    m.id.idiag_sport = htons(sport);
    m.id.idiag_dport = htons(80);
    m.id.idiag_src[0] = htonl(INADDR_LOOPBACK);
    m.id.idiag_dst[0] = htonl(INADDR_LOOPBACK);
    m.id.idiag_cookie[0] = sport;
    m.idiag_rqueue = 3;
    append_message(buf, SOCK_DIAG_BY_FAMILY, seq, &m, sizeof(m));
}

void append_done(std::vector<char>& buf, uint32_t seq) {
    int zero = 0;
    append_message(buf, NLMSG_DONE, seq, &zero, sizeof(zero));
}

TEST(SockDiagMessages, ReadsTheSocketsOfTheDumpUpToItsDone) {
    std::vector<char> buf;
    append_socket(buf, 7, 40000, 1);
    append_socket(buf, 7, 40001, 8);
    SocketSnapshot snap;
    std::string error;
    EXPECT_EQ(read_sock_diag_messages(buf.data(), buf.size(), 7, &snap, &error), DumpProgress::More);
    buf.clear();
    append_done(buf, 7);
    EXPECT_EQ(read_sock_diag_messages(buf.data(), buf.size(), 7, &snap, &error), DumpProgress::Done);
    ASSERT_EQ(snap.sockets.size(), 2u);
    EXPECT_EQ(snap.sockets[0].local.addr, "127.0.0.1");
    EXPECT_EQ(snap.sockets[0].local.port, 40000);
    EXPECT_EQ(snap.sockets[1].state, 8);
    EXPECT_EQ(snap.sockets[1].cookie, 40001u);
    EXPECT_EQ(snap.sockets[1].recv_q, 3u);
    EXPECT_FALSE(snap.sockets[1].has_storage);
}

// The tail of a dump that timed out (seq 4), read at the start of the
// next one (seq 5): its sockets and its DONE are skipped.
TEST(SockDiagMessages, ALateReplyOfAnEarlierDumpIsSkipped) {
    std::vector<char> buf;
    append_socket(buf, 4, 50000, 1);
    append_done(buf, 4);
    append_socket(buf, 5, 40000, 10);
    SocketSnapshot snap;
    std::string error;
    EXPECT_EQ(read_sock_diag_messages(buf.data(), buf.size(), 5, &snap, &error), DumpProgress::More)
        << "the earlier dump's DONE does not end this one";
    ASSERT_EQ(snap.sockets.size(), 1u);
    EXPECT_EQ(snap.sockets[0].local.port, 40000);
}

TEST(SockDiagMessages, AnErrorOfTheDumpSaysWhy) {
    std::vector<char> buf;
    nlmsgerr err{};
    err.error = -EPERM;
    append_message(buf, NLMSG_ERROR, 3, &err, sizeof(err));
    SocketSnapshot snap;
    std::string error;
    EXPECT_EQ(read_sock_diag_messages(buf.data(), buf.size(), 3, &snap, &error), DumpProgress::Error);
    EXPECT_NE(error.find("not permitted"), std::string::npos) << error;
}

TEST(SockDiagMessages, ATruncatedBufferEndsWithoutReadingPastIt) {
    std::vector<char> buf;
    append_socket(buf, 2, 40000, 1);
    SocketSnapshot snap;
    std::string error;
    EXPECT_EQ(read_sock_diag_messages(buf.data(), buf.size() - 8, 2, &snap, &error), DumpProgress::More);
    EXPECT_TRUE(snap.sockets.empty());
}

}  // namespace
}  // namespace tcpscope

namespace tcpscope {
namespace {

// A LISTEN socket with INET_DIAG_SKMEMINFO: its drop counter (sk_drops,
// SK_MEMINFO_DROPS) is read; the queue and backlog are Recv-Q and Send-Q.
TEST(SockDiagMessages, ReadsAListenersDropCounterFromSkmeminfo) {
    std::vector<char> payload(NLMSG_ALIGN(sizeof(inet_diag_msg)) + NLA_HDRLEN +
                              SK_MEMINFO_VARS * sizeof(uint32_t));
    inet_diag_msg m{};
    m.idiag_family = AF_INET;
    m.idiag_state = 10;
    m.id.idiag_sport = htons(8080);
    m.idiag_rqueue = 2;
    m.idiag_wqueue = 1;
    std::memcpy(payload.data(), &m, sizeof(m));
    nlattr a{};
    a.nla_type = INET_DIAG_SKMEMINFO;
    a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + SK_MEMINFO_VARS * sizeof(uint32_t));
    char* at = payload.data() + NLMSG_ALIGN(sizeof(inet_diag_msg));
    std::memcpy(at, &a, sizeof(a));
    uint32_t vars[SK_MEMINFO_VARS] = {};
    vars[SK_MEMINFO_DROPS] = 8;
    std::memcpy(at + NLA_HDRLEN, vars, sizeof(vars));
    std::vector<char> buf;
    append_message(buf, SOCK_DIAG_BY_FAMILY, 3, payload.data(), payload.size());
    SocketSnapshot snap;
    std::string error;
    read_sock_diag_messages(buf.data(), buf.size(), 3, &snap, &error);
    ASSERT_EQ(snap.sockets.size(), 1u);
    EXPECT_TRUE(snap.sockets[0].has_meminfo);
    EXPECT_EQ(snap.sockets[0].drops, 8u);
    EXPECT_EQ(snap.sockets[0].recv_q, 2u);
    EXPECT_EQ(snap.sockets[0].send_q, 1u);
}

}  // namespace
}  // namespace tcpscope
