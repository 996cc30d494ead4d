// `tcpscope exec`'s captured calls: records decoded into steps, cookies
// given to the calls made before the socket had one, sides, and the words
// that explain a failed call.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <linux/types.h>
#include <netinet/in.h>

#include <cstring>

#include "call_record_support.h"
#include "captured_call.h"
#include "failure_cause.h"
#include "syscalls.h"

namespace tcpscope {
namespace {

constexpr uint32_t kSocket = 41, kConnect = 42, kAccept4 = 288, kSendto = 44, kRead = 0,
                   kBind = 49, kListen = 50, kClose = 3, kSetsockopt = 54, kPoll = 7;


CapturedCall decoded(const ts_call& r) {
    auto c = decode_call(&r, sizeof(r));
    EXPECT_TRUE(c.has_value());
    return c ? *c : CapturedCall{};
}

TEST(CapturedCall, RejectsARecordOfTheWrongSize) {
    ts_call r{};
    std::string error;
    EXPECT_FALSE(decode_call(&r, sizeof(r) - 1, &error));
    EXPECT_NE(error.find("bytes, expected"), std::string::npos) << error;
}

TEST(CapturedCall, SendFailingWithEpipeIsMinusOneAndItsErrno) {
    ts_call r = call_record(kSendto, -32, 0xffff1000, 42, 1000);
    r.args[2] = 1;
    on_loopback(r);
    CapturedCall c = decoded(r);
    EXPECT_EQ(c.step.op, StepOp::Send);
    EXPECT_EQ(c.step.size, 1);
    EXPECT_EQ(c.step.ret, -1);
    EXPECT_EQ(c.step.errno_name, "EPIPE");
    EXPECT_EQ(c.step.cookie, 42u);
    EXPECT_EQ(c.step.local, "127.0.0.1:40000");
    EXPECT_EQ(c.step.remote, "127.0.0.1:5000");
    EXPECT_EQ(c.step.call, "sendto(3, buf, 1)");
    EXPECT_EQ(c.syscall, "sendto");
}

TEST(CapturedCall, BindNamesTheAddressPassed) {
    ts_call r = call_record(kBind, 0, 0xffff1000, 0, 1000);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(5000);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::memcpy(r.addr, &sin, sizeof(sin));
    r.addr_len = sizeof(sin);
    CapturedCall c = decoded(r);
    EXPECT_EQ(c.step.op, StepOp::Bind);
    EXPECT_EQ(c.step.arg, "127.0.0.1:5000");
}

TEST(CapturedCall, SetsockoptNamesTheOptionAndItsValue) {
    ts_call r = call_record(kSetsockopt, 0, 0xffff1000, 0, 1000);
    r.args[1] = 6;   // IPPROTO_TCP
    r.args[2] = 18;  // TCP_USER_TIMEOUT
    r.optval = 500;
    r.optval_valid = 1;
    CapturedCall c = decoded(r);
    EXPECT_EQ(c.step.op, StepOp::SetSockOpt);
    EXPECT_EQ(c.step.arg, "TCP_USER_TIMEOUT");
    EXPECT_EQ(c.step.size, 500);
}

TEST(CapturedCall, ACookieSeenLaterIsGivenToTheEarlierCallsOfTheSameSocketOnly) {
    // socket, bind and listen on address A before anything made its cookie;
    // a later call sees cookie 77. A closes; a new socket reuses the address
    // A and gets cookie 88: its calls must not take 77.
    std::vector<CapturedCall> calls;
    calls.push_back(decoded(call_record(kSocket, 3, 0xA000, 0, 10)));
    calls.push_back(decoded(call_record(kBind, 0, 0xA000, 0, 20)));
    calls.push_back(decoded(call_record(kListen, 0, 0xA000, 77, 30)));
    calls.push_back(decoded(call_record(kClose, 0, 0xA000, 77, 40)));
    calls.push_back(decoded(call_record(kSocket, 3, 0xA000, 0, 50)));
    calls.push_back(decoded(call_record(kConnect, 0, 0xA000, 88, 60)));
    std::vector<Step> steps = finish_calls(calls);
    ASSERT_EQ(steps.size(), 6u);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(steps[i].cookie, 77u) << i;
    EXPECT_EQ(steps[4].cookie, 88u);
    EXPECT_EQ(steps[5].cookie, 88u);
    EXPECT_EQ(steps[2].side, "server");
    EXPECT_EQ(steps[5].side, "client");
}

TEST(CapturedCall, ASocketUnhashedByARstKeepsTheEndpointsItWasLastSeenWith) {
    ts_call connected = call_record(kConnect, 0, 0xA000, 55, 10);
    ts_call after_rst = call_record(kSendto, -32, 0xA000, 55, 20);
    for (ts_call* r : {&connected, &after_rst}) {
        r->family = AF_INET;
        uint32_t lo = htonl(INADDR_LOOPBACK);
        std::memcpy(r->laddr, &lo, 4);
        std::memcpy(r->raddr, &lo, 4);
        r->rport = 5000;
    }
    connected.lport = 40000;
    after_rst.lport = 0;  // what the socket reads once the RST unhashed it
    std::vector<CapturedCall> calls{decoded(connected), decoded(after_rst)};
    EXPECT_EQ(calls[1].step.local, "127.0.0.1:0");
    std::vector<Step> steps = finish_calls(calls);
    EXPECT_EQ(steps[1].local, "127.0.0.1:40000");
    EXPECT_EQ(steps[1].remote, "127.0.0.1:5000");
}

TEST(CapturedCall, AcceptNamesTheConnectionItHandedOut) {
    std::vector<CapturedCall> calls;
    calls.push_back(decoded(call_record(kListen, 0, 0xA000, 77, 10)));
    ts_call acc = call_record(kAccept4, 4, 0xA000, 77, 20);
    acc.new_sk = 0xB000;  // cookie not made yet
    calls.push_back(decoded(acc));
    ts_call rd = call_record(kRead, 5, 0xB000, 99, 30);
    rd.tgid = 100;
    calls.push_back(decoded(rd));
    std::vector<Step> steps = finish_calls(calls);
    ASSERT_EQ(steps.size(), 3u);
    EXPECT_EQ(steps[1].op, StepOp::Accept);
    EXPECT_EQ(steps[1].cookie, 77u);
    EXPECT_EQ(steps[1].info["accepted"]["cookie"], 99u);
    EXPECT_EQ(steps[2].side, "server");
}

TEST(CapturedCall, PollReportsItsReadySocketsByCookie) {
    std::vector<CapturedCall> calls;
    calls.push_back(decoded(call_record(kConnect, 0, 0xA000, 55, 10)));
    ts_call p = call_record(kPoll, 1, 0, 0, 20);
    p.nready = 1;
    p.ready[0] = ts_ready{3, 0x2001, 0, 0xA000};
    calls.push_back(decoded(p));
    std::vector<Step> steps = finish_calls(calls);
    ASSERT_EQ(steps[1].info["ready"].size(), 1u);
    EXPECT_EQ(steps[1].info["ready"][0]["cookie"], 55u);
    EXPECT_EQ(steps[1].info["ready"][0]["events"], "IN|RDHUP");
    EXPECT_EQ(steps[1].cookie, 55u);
    EXPECT_EQ(steps[1].side, "client");
}

TEST(CapturedCall, AReadinessCallThatReturnedNoTcpSocketIsLeftOut) {
    std::vector<CapturedCall> calls;
    calls.push_back(decoded(call_record(kConnect, 0, 0xA000, 55, 10)));
    calls.push_back(decoded(call_record(kPoll, 1, 0, 0, 20)));  // a pipe came back ready
    calls.push_back(decoded(call_record(kPoll, 0, 0, 0, 30)));  // timed out: kept
    std::vector<Step> steps = finish_calls(calls);
    ASSERT_EQ(steps.size(), 2u);
    EXPECT_EQ(steps[1].op, StepOp::Poll);
    EXPECT_EQ(steps[1].ret, 0);
}

// An event on the client's socket 127.0.0.1:40000 -> 127.0.0.1:5000 (the
// peer's RST: the other way round).
Event event(EventKind kind, uint64_t ts, uint64_t cookie) {
    Event e;
    e.kind = kind;
    e.ts_ns = ts;
    e.cookie = cookie;
    e.family = AF_INET;
    e.local = {"127.0.0.1", 40000};
    e.remote = {"127.0.0.1", 5000};
    return e;
}

Step failed(const std::string& err, uint64_t cookie, uint64_t ts) {
    Step s;
    s.op = StepOp::Send;
    s.ret = -1;
    s.errno_name = err;
    s.cookie = cookie;
    s.start_ns = ts - 5;
    s.ts_ns = ts;
    s.local = "127.0.0.1:40000";
    s.remote = "127.0.0.1:5000";
    return s;
}

const ResetReasons kReasons({{1, "NO_SOCKET"}, {9, "TCP_TIMEWAIT_SOCKET"}});

TEST(FailureCause, EpipeIsTheRstReceivedInCloseWaitFromThePeersTimewaitSocket) {
    Event sent = event(EventKind::ResetSent, 2'000'000, 0);
    sent.minisock = true;
    sent.reason = 9;
    sent.local = {"127.0.0.1", 5000};
    sent.remote = {"127.0.0.1", 40000};
    Event received = event(EventKind::ResetReceived, 2'100'000, 42);
    received.state = 8;  // CLOSE_WAIT
    std::vector<Event> events{sent, received};
    EXPECT_EQ(failure_cause(failed("EPIPE", 42, 3'000'000), events, kReasons, 0),
              "RST received in CLOSE_WAIT at 2.1 ms (peer's timewait socket, TCP_TIMEWAIT_SOCKET)");
}

TEST(FailureCause, ConnectionRefusedIsTheRstFromNoSocket) {
    Event sent = event(EventKind::ResetSent, 1'000'000, 0);
    sent.no_socket = true;
    sent.reason = 1;
    sent.local = {"127.0.0.1", 5000};
    sent.remote = {"127.0.0.1", 40000};
    Event received = event(EventKind::ResetReceived, 1'000'000, 42);
    received.state = 2;  // SYN_SENT
    Step connect = failed("ECONNREFUSED", 42, 1'500'000);
    connect.op = StepOp::Connect;
    EXPECT_EQ(failure_cause(connect, {sent, received}, kReasons, 0),
              "RST received in SYN_SENT at 1.0 ms (no socket on the peer's port, NO_SOCKET)");
}

TEST(FailureCause, AnRstBetweenOtherEndpointsIsNotThePeers) {
    Event sent = event(EventKind::ResetSent, 2'000'000, 0);
    sent.no_socket = true;
    sent.reason = 1;
    sent.local = {"127.0.0.1", 6000};
    sent.remote = {"127.0.0.1", 40000};
    Event received = event(EventKind::ResetReceived, 2'100'000, 42);
    received.state = 8;
    EXPECT_EQ(failure_cause(failed("EPIPE", 42, 3'000'000), {sent, received}, kReasons, 0),
              "RST received in CLOSE_WAIT at 2.1 ms");
}

TEST(FailureCause, AnRstAfterTheCallExplainsNothing) {
    Event received = event(EventKind::ResetReceived, 5'000'000, 42);
    received.state = 8;
    EXPECT_EQ(failure_cause(failed("EPIPE", 42, 3'000'000), {received}, kReasons, 0), "");
}

TEST(FailureCause, EtimedoutCountsTheRetransmissions) {
    std::vector<Event> events{event(EventKind::Retransmit, 1'000'000, 42),
                              event(EventKind::Retransmit, 2'000'000, 42),
                              event(EventKind::Retransmit, 2'500'000, 7)};
    Event err = event(EventKind::SockError, 4'000'000, 42);
    err.error = 110;
    events.push_back(err);
    EXPECT_EQ(failure_cause(failed("ETIMEDOUT", 42, 5'000'000), events, kReasons, 0),
              "2 retransmissions unanswered, then socket error ETIMEDOUT at 4.0 ms");
}

TEST(FailureCause, ExplainFailuresPutsTheCauseInTheStepsInfo) {
    Event received = event(EventKind::ResetReceived, 2'000'000, 42);
    received.state = 1;  // ESTABLISHED
    Step ok = failed("", 42, 1'000'000);
    ok.ret = 1;
    std::vector<Step> steps{ok, failed("ECONNRESET", 42, 3'000'000)};
    EXPECT_EQ(explain_failures(steps, {received}, kReasons), 1u);
    EXPECT_FALSE(steps[0].info.contains("cause"));
    EXPECT_EQ(steps[1].info["cause"], "RST received in ESTABLISHED at 1.0 ms");
}

}  // namespace
}  // namespace tcpscope
