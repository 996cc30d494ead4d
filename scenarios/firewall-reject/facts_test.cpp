// The facts of firewall-reject (facts.cpp; a scenario about a firewall between
// the peers) on its run recorded on Linux 6.18 (recording.jsonl, `tcpscope run
// firewall-reject --json`): changing the recording the way a different kernel
// behaviour would makes the fact about that behaviour fail, and leaves a fact
// about something else holding (that every fact holds on the recording itself:
// tests/unit/recorded_runs_test.cpp). Facts are named by their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

bool is_rst_out(const Event& e, const std::string&) {
    return e.kind == EventKind::Packet && e.dir == TS_DIR_TX && (e.tcp_flags & TS_TCP_RST);
}

TEST(FirewallReject, AResetFromTcpFailsTheFirewallFact) {
    // TCP's own RST for a port with no socket (connect-refused's): the
    // tcp_send_reset tracepoint fires, with reason NO_SOCKET.
    Recording r = load("firewall-reject");
    Event* rst = event_where(r, is_rst_out);
    ASSERT_NE(rst, nullptr);
    Event sent = *rst;
    sent.kind = EventKind::ResetSent;
    sent.no_socket = true;
    sent.reason = r.reasons.intern("NO_SOCKET");
    r.events.push_back(sent);
    EXPECT_TRUE(fails_and_holds(r, "firewall-reject.tcp-sent-no-reset",
                                "firewall-reject.rst-without-socket"));
}

TEST(FirewallReject, ANoSocketDropFailsTheDropFact) {
    // Nobody listening and no firewall: TCP frees the SYN with NO_SOCKET.
    Recording r = load("firewall-reject");
    Event* drop = event_where(r, is_drop);
    ASSERT_NE(drop, nullptr);
    drop->drop_reason = "NO_SOCKET";
    auto verdicts = verdicts_of(r, "firewall-reject");
    EXPECT_FALSE(verdict(verdicts, "firewall-reject.syn-dropped").ok);
    EXPECT_FALSE(verdict(verdicts, "firewall-reject.counter-agrees").ok);
    EXPECT_TRUE(verdict(verdicts, "firewall-reject.connect-refused").ok);
}

TEST(FirewallReject, ARstFromASocketFailsTheNoSocketFact) {
    Recording r = load("firewall-reject");
    Event* rst = event_where(r, is_rst_out);
    ASSERT_NE(rst, nullptr);
    rst->cookie = 4242;
    EXPECT_FALSE(verdict(verdicts_of(r, "firewall-reject"), "firewall-reject.rst-without-socket").ok);
}

TEST(FirewallReject, ARstNotAnsweringTheSynFailsTheNoSocketFact) {
    Recording r = load("firewall-reject");
    Event* rst = event_where(r, is_rst_out);
    ASSERT_NE(rst, nullptr);
    rst->ack_seq += 1000;
    EXPECT_FALSE(verdict(verdicts_of(r, "firewall-reject"), "firewall-reject.rst-without-socket").ok);
}

TEST(FirewallReject, NoListenerFailsTheListenerFact) {
    Recording r = load("firewall-reject");
    EXPECT_EQ(erase_events(r, [](const Event& e, const std::string&) { return is_state(e, "CLOSE", "LISTEN"); }),
              1u);
    EXPECT_TRUE(fails_and_holds(r, "firewall-reject.listener-exists", "firewall-reject.connect-refused"));
}

TEST(FirewallReject, OnAKernelBefore610TheAbsenceOfTcpsRstIsNotObservable) {
    // Before 6.10 tcp_send_reset fires only for RSTs of a full socket: its
    // silence proves nothing, and the verdict says why, on which kernel.
    Recording r = load("firewall-reject");
    r.kernel.known = true;
    r.kernel.release = "6.1.0-56-cloud-amd64";
    r.kernel.tracepoint_args = {{"inet_sock_set_state", 3}, {"tcp_send_reset", 2},
                                {"tcp_receive_reset", 1},   {"tcp_retransmit_skb", 2},
                                {"inet_sk_error_report", 1}, {"net_dev_start_xmit", 2}};
    auto verdicts = verdicts_of(r, "firewall-reject");
    Verdict v = verdict(verdicts, "firewall-reject.tcp-sent-no-reset");
    EXPECT_FALSE(v.observable);
    EXPECT_FALSE(v.failed());
    EXPECT_NE(v.detail.find("6.1.0-56-cloud-amd64"), std::string::npos) << v.detail;
    EXPECT_TRUE(verdict(verdicts, "firewall-reject.rst-without-socket").ok);
}

TEST(FirewallReject, ASynAcceptedFailsTheRefusalFact) {
    Recording r = load("firewall-reject");
    Step* connect = step(r, "client", kConnect);
    ASSERT_NE(connect, nullptr);
    connect->ret = 0;
    connect->errno_name.clear();
    EXPECT_FALSE(verdict(verdicts_of(r, "firewall-reject"), "firewall-reject.connect-refused").ok);
}

}  // namespace
}  // namespace tcpscope
