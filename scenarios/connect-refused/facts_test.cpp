// The facts of connect-refused (facts.cpp; a scenario about how a connection
// attempt ends) on its run recorded on Linux 6.18 (recording.jsonl, `tcpscope
// run connect-refused --json`): changing the recording the way a different
// kernel behaviour would makes the fact about that behaviour fail, and leaves a
// fact about something else holding (that every fact holds on the recording
// itself: tests/unit/recorded_runs_test.cpp). Facts are named by their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

TEST(ConnectRefused, AResetWithAnotherReasonFailsTheRstFact) {
    // A RST from a socket that exists (a listener refusing, say), not the
    // kernel's answer for a port with no socket.
    Recording r = load("connect-refused");
    Event* rst = event_where(r, is_rst_sent);
    ASSERT_NE(rst, nullptr);
    rst->reason = r.reasons.intern("NOT_SPECIFIED");
    rst->no_socket = false;
    EXPECT_TRUE(fails_and_holds(r, "connect-refused.rst-answers-syn", "connect-refused.connect-refused"));
}

TEST(ConnectRefused, AResetThatDoesNotAcknowledgeTheSynFailsTheRstFact) {
    // A stray RST (ack of something else) does not answer this SYN.
    Recording r = load("connect-refused");
    Event* rst = event_where(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::Packet && (e.tcp_flags & TS_TCP_RST);
    });
    ASSERT_NE(rst, nullptr);
    rst->ack_seq += 1000;
    EXPECT_FALSE(verdict(verdicts_of(r, "connect-refused"), "connect-refused.rst-answers-syn").ok);
}

TEST(ConnectRefused, AResetInEstablishedFailsTheSynSentFact) {
    // The handshake completed and the connection was reset afterwards.
    Recording r = load("connect-refused");
    Event* received = event_where(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::ResetReceived;
    });
    Event* closed = event_where(r, [](const Event& e, const std::string&) {
        return is_state(e, "SYN_SENT", "CLOSE");
    });
    ASSERT_NE(received, nullptr);
    ASSERT_NE(closed, nullptr);
    received->state = state_value("ESTABLISHED");
    closed->old_state = state_value("ESTABLISHED");
    Event established = *closed;
    established.old_state = state_value("SYN_SENT");
    established.new_state = state_value("ESTABLISHED");
    established.ts_ns = received->ts_ns - 1;
    r.events.push_back(established);
    EXPECT_TRUE(fails_and_holds(r, "connect-refused.syn-sent-to-close", "connect-refused.rst-answers-syn"));
}

TEST(ConnectRefused, ATimeoutFailsTheRefusedFact) {
    // The SYN was dropped (a firewall): connect() times out.
    Recording r = load("connect-refused");
    make_fail(step(r, "client", kConnect), "ETIMEDOUT");
    set_sock_error(r, "client", "ETIMEDOUT");
    EXPECT_TRUE(fails_and_holds(r, "connect-refused.connect-refused", "connect-refused.syn-sent-to-close"));
}

TEST(ConnectRefused, AnErrorLeftPendingFailsTheSoErrorFact) {
    // connect() reported the error without consuming it.
    Recording r = load("connect-refused");
    Step* so = step(r, "client", kSoError);
    ASSERT_NE(so, nullptr);
    so->info["so_error"] = "ECONNREFUSED";
    EXPECT_TRUE(fails_and_holds(r, "connect-refused.so-error-consumed", "connect-refused.connect-refused"));
}

}  // namespace
}  // namespace tcpscope
