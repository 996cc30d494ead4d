// Kernel tier: who an event is attributed to, and what the process
// filters see of it (issue 16): the signal's target, sockets whose owner
// is unknown, owners remembered whatever the filters, packets sent from
// softirq.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "kernel_test_support.h"

namespace ktest {
namespace {

using tcpscope::FilterOptions;

// {"type":"comm","comm":C}: renames this process.
// {"type":"ignore_sigpipe"}: SIGPIPE ignored (a SIGPIPE then does no harm).
// {"type":"kill","pid":P}: sends SIGPIPE to P.
void sig_body(HelperIO& io) {
    for (;;) {
        json m = io.next();
        std::string type = m.value("type", "");
        if (type == "exit") return;
        if (type == "comm") {
            std::string comm = m.at("comm");
            prctl(PR_SET_NAME, comm.c_str());
        } else if (type == "ignore_sigpipe") {
            signal(SIGPIPE, SIG_IGN);
        } else if (type == "kill") {
            if (kill(static_cast<pid_t>(m.at("pid").get<int>()), SIGPIPE) != 0) fail("kill");
        } else {
            errno = 0;
            fail("unknown command " + m.dump());
        }
        io.report({{"type", "ok"}});
    }
}

bool has_signal_to(const std::vector<Event>& events, pid_t target) {
    return std::any_of(events.begin(), events.end(), [target](const Event& e) {
        return e.kind == EventKind::Signal && e.target_pid == static_cast<uint32_t>(target);
    });
}

// A SIGPIPE one process sends another with kill(2): the running task is the
// sender, the process concerned is the target. --pid and --comm both name
// the target: the event passes; --pid of the target with the sender's name
// matches no single process: it does not.
TEST(KernelAttribution, SignalFiltersAllLookAtTheTarget) {
    KTEST_REQUIRE_ROOT();
    auto target = Helper::in_new_netns(sig_body);
    auto sender = Helper::in_netns_of(*target, sig_body);
    const std::string tag = std::to_string(getpid() % 100000);
    const std::string target_comm = "tst-tgt-" + tag, sender_comm = "tst-snd-" + tag;
    target->send({{"type", "comm"}, {"comm", target_comm}});
    target->expect("ok");
    target->send({{"type", "ignore_sigpipe"}});
    target->expect("ok");
    sender->send({{"type", "comm"}, {"comm", sender_comm}});
    sender->expect("ok");

    FilterOptions both, mixed, control;
    both.events = mixed.events = control.events = "signal";
    control.netns = target->netns_path();
    both.pid = mixed.pid = target->pid();
    both.comm = target_comm;
    mixed.comm = sender_comm;
    Capture c_both, c_mixed, c_control;
    std::string error;
    ASSERT_TRUE(c_both.start(both, &error)) << error;
    ASSERT_TRUE(c_mixed.start(mixed, &error)) << error;
    ASSERT_TRUE(c_control.start(control, &error)) << error;

    sender->send({{"type", "kill"}, {"pid", target->pid()}});
    sender->expect("ok");
    auto got = [&](const std::vector<Event>& ev) { return has_signal_to(ev, target->pid()); };
    ASSERT_TRUE(c_control.wait_for(got, 10)) << describe(c_control.events());
    EXPECT_TRUE(c_both.wait_for(got, 5)) << "--pid and --comm of the target dropped its signal";
    c_mixed.settle(300);
    EXPECT_FALSE(has_signal_to(c_mixed.events(), target->pid()))
        << "--pid of the target with the sender's --comm matched:\n" << describe(c_mixed.events());
    target->send({{"type", "exit"}});
    sender->send({{"type", "exit"}});
    target->join();
    sender->join();
}

// One end of a TCP conversation, driven step by step:
//  {"type":"listen","addr":A,"port":P}      listening socket
//  {"type":"connect","addr":A,"port":P,"from":B}  connect, bound to B first
//  {"type":"accept"}                        accepts one child
//  {"type":"send"}                          one byte on the connected socket
//  {"type":"close"}                         closes the connected socket
//  {"type":"close_child"}                   reads to EOF, closes the child
//  {"type":"close_listener"}
void end_body(HelperIO& io) {
    int lfd = -1, cfd = -1, afd = -1;
    for (;;) {
        json m = io.next();
        std::string type = m.value("type", "");
        if (type == "exit") return;
        if (type == "listen") {
            lfd = tcp_listen(m.at("addr"), m.at("port"));
        } else if (type == "connect") {
            cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (cfd < 0) fail("socket");
            sockaddr_in sa{};
            sa.sin_family = AF_INET;
            if (m.contains("from")) {
                inet_pton(AF_INET, m.at("from").get<std::string>().c_str(), &sa.sin_addr);
                if (bind(cfd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) fail("bind");
            }
            sa.sin_port = htons(m.at("port").get<uint16_t>());
            inet_pton(AF_INET, m.at("addr").get<std::string>().c_str(), &sa.sin_addr);
            if (connect(cfd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) fail("connect");
        } else if (type == "accept") {
            afd = accept_timeout(lfd, 5000);
        } else if (type == "send") {
            if (send(cfd, "x", 1, MSG_NOSIGNAL) != 1) fail("send");
        } else if (type == "close") {
            close(cfd);
        } else if (type == "close_child") {
            char c[16];
            while (recv(afd, c, sizeof(c), 0) > 0) {
            }
            close(afd);
        } else if (type == "close_listener") {
            close(lfd);
        } else {
            errno = 0;
            fail("unknown command " + m.dump());
        }
        io.report({{"type", "ok"}});
    }
}

void step(Helper& h, const json& m) {
    h.send(m);
    h.expect("ok");
}

bool has_transition(const std::vector<Event>& events, uint16_t local_port, int from, int to) {
    return std::any_of(events.begin(), events.end(), [&](const Event& e) {
        return e.kind == EventKind::State && e.local.port == local_port && e.old_state == from &&
               e.new_state == to;
    });
}

constexpr int kEstablished = 1, kSynRecv = 3, kCloseWait = 8, kLastAck = 9, kClose = 7,
              kListen = 10;

// A server that was listening before the tracer started, and the tracer
// not told who owns it (seeding from /proc off: as when a socket's process
// cannot be found). The client's handshake and close run the server
// socket's transitions in softirq inside the client's syscalls; they name
// nobody ("unknown", pid 0), never the client.
TEST(KernelAttribution, UnknownOwnerInSoftirqNamesNobody) {
    KTEST_REQUIRE_ROOT();
    auto server = Helper::in_new_netns(end_body);
    auto client = Helper::in_netns_of(*server, end_body);
    const uint16_t port = unique_port();
    step(*server, {{"type", "listen"}, {"addr", "127.0.0.1"}, {"port", port}});

    Capture cap;
    FilterOptions f;
    f.netns = server->netns_path();
    std::string error;
    ASSERT_TRUE(cap.start(f, &error, 4u << 20, /*seed_owners=*/false)) << error;
    step(*client, {{"type", "connect"}, {"addr", "127.0.0.1"}, {"port", port}});
    step(*server, {{"type", "accept"}});
    step(*client, {{"type", "close"}});
    step(*server, {{"type", "close_child"}});
    step(*server, {{"type", "close_listener"}});
    ASSERT_TRUE(cap.wait_for(
        [&](const std::vector<Event>& ev) { return has_transition(ev, port, kListen, kClose); }, 10))
        << describe(cap.events());

    const auto& ev = cap.events();
    const auto server_side = select(ev, [&](const Event& e) { return e.local.port == port; });
    for (int to : {kSynRecv, kEstablished, kCloseWait}) {
        ASSERT_TRUE(has_transition(ev, port, to == kSynRecv ? kListen : to == kEstablished ? kSynRecv
                                                                                            : kEstablished,
                                   to))
            << describe(ev);
    }
    for (const auto& e : server_side) {
        EXPECT_NE(e.pid, static_cast<uint32_t>(client->pid())) << "blamed on the client: " << describe(e);
        if ((e.old_state == kListen && e.new_state == kSynRecv) || e.old_state == kSynRecv ||
            (e.old_state == kEstablished && e.new_state == kCloseWait)) {
            EXPECT_TRUE(e.irq) << describe(e);
            EXPECT_EQ(e.attribution, "unknown") << describe(e);
            EXPECT_EQ(e.pid, 0u) << describe(e);
            EXPECT_EQ(e.comm, "") << describe(e);
        }
    }
    // What the server itself did names it.
    auto last_ack = select(server_side, [](const Event& e) { return e.new_state == kLastAck; });
    ASSERT_EQ(last_ack.size(), 1u) << describe(ev);
    EXPECT_EQ(last_ack[0].pid, static_cast<uint32_t>(server->pid())) << describe(last_ack[0]);
    client->send({{"type", "exit"}});
    server->send({{"type", "exit"}});
    client->join();
    server->join();
}

// Server-side transitions of one accepted child, with the server's
// listener on 0.0.0.0 (which --addr of the client's address does not match).
std::vector<Event> child_side(const std::vector<Event>& ev, uint16_t port) {
    return select(ev, [&](const Event& e) {
        return e.kind == EventKind::State && e.local.port == port &&
               e.remote.port != 0;
    });
}

// --addr of the client's address: the listener (0.0.0.0, remote 0.0.0.0)
// does not pass, but its owner must still be remembered: the accepted
// child's transitions name the server, and --pid of the server with the
// same --addr keeps them all.
TEST(KernelAttribution, AddrFilterStillRemembersTheListenersOwner) {
    KTEST_REQUIRE_ROOT();
    auto server = Helper::in_new_netns(end_body);
    auto client = Helper::in_netns_of(*server, end_body);
    const uint16_t port = unique_port();

    FilterOptions by_addr, by_pid, control;
    by_addr.netns = by_pid.netns = control.netns = server->netns_path();
    by_addr.addr = by_pid.addr = "127.0.0.2";
    by_pid.pid = server->pid();
    Capture c_addr, c_pid, c_control;
    std::string error;
    ASSERT_TRUE(c_addr.start(by_addr, &error)) << error;
    ASSERT_TRUE(c_pid.start(by_pid, &error)) << error;
    ASSERT_TRUE(c_control.start(control, &error)) << error;

    step(*server, {{"type", "listen"}, {"addr", "0.0.0.0"}, {"port", port}});
    step(*client, {{"type", "connect"}, {"addr", "127.0.0.1"}, {"port", port}, {"from", "127.0.0.2"}});
    step(*server, {{"type", "accept"}});
    step(*client, {{"type", "close"}});
    step(*server, {{"type", "close_child"}});
    step(*server, {{"type", "close_listener"}});
    auto done = [&](const std::vector<Event>& ev) {
        return has_transition(ev, port, kLastAck, kClose);
    };
    ASSERT_TRUE(c_control.wait_for(
        [&](const std::vector<Event>& ev) { return done(ev) && has_transition(ev, port, kListen, kClose); },
        10))
        << describe(c_control.events());
    ASSERT_TRUE(c_addr.wait_for(done, 5)) << describe(c_addr.events());
    c_pid.settle(300);

    // LISTEN->SYN_RECV, SYN_RECV->ESTABLISHED, ESTABLISHED->CLOSE_WAIT,
    // CLOSE_WAIT->LAST_ACK, LAST_ACK->CLOSE.
    const auto child = child_side(c_addr.events(), port);
    ASSERT_EQ(child.size(), 5u) << describe(c_addr.events());
    for (const auto& e : child) {
        EXPECT_EQ(e.pid, static_cast<uint32_t>(server->pid())) << describe(e);
    }
    const auto kept = child_side(c_pid.events(), port);
    EXPECT_EQ(kept.size(), 5u) << "--pid " << server->pid() << " --addr 127.0.0.2 kept:\n"
                               << describe(c_pid.events());
    client->send({{"type", "exit"}});
    server->send({{"type", "exit"}});
    client->join();
    server->join();
}

// Data from the client makes the server's socket send an ACK in softirq,
// inside the client's send(): the packet belongs to the server's socket
// and names its owner, in softirq context; --pid of the client (a
// bystander to that ACK) does not catch it, --pid of the server does.
TEST(KernelAttribution, SoftirqAckNamesTheSocketsOwner) {
    KTEST_REQUIRE_ROOT();
    auto server = Helper::in_new_netns(end_body);
    auto client = Helper::in_netns_of(*server, end_body);
    const uint16_t port = unique_port();

    FilterOptions all, by_client, by_server;
    all.netns = by_client.netns = by_server.netns = server->netns_path();
    all.events = by_client.events = by_server.events = "packet";
    by_client.pid = client->pid();
    by_server.pid = server->pid();
    Capture c_all, c_client, c_server;
    std::string error;
    ASSERT_TRUE(c_all.start(all, &error)) << error;
    ASSERT_TRUE(c_client.start(by_client, &error)) << error;
    ASSERT_TRUE(c_server.start(by_server, &error)) << error;

    step(*server, {{"type", "listen"}, {"addr", "127.0.0.1"}, {"port", port}});
    step(*client, {{"type", "connect"}, {"addr", "127.0.0.1"}, {"port", port}});
    step(*server, {{"type", "accept"}});
    step(*client, {{"type", "send"}});
    // The data's ACK: from the server's port, no payload, no SYN/FIN.
    auto is_data_ack = [&](const Event& e) {
        return e.kind == EventKind::Packet && e.local.port == port && e.payload_len == 0 &&
               e.tcp_flags == TS_TCP_ACK;
    };
    auto has_ack = [&](const std::vector<Event>& ev) {
        return std::any_of(ev.begin(), ev.end(), is_data_ack);
    };
    ASSERT_TRUE(c_all.wait_for(has_ack, 10)) << describe(c_all.events());
    step(*client, {{"type", "close"}});
    step(*server, {{"type", "close_child"}});
    step(*server, {{"type", "close_listener"}});
    c_all.settle(300);

    const auto acks = select(c_all.events(), is_data_ack);
    for (const auto& e : acks) {
        EXPECT_EQ(e.pid, static_cast<uint32_t>(server->pid())) << describe(e);
    }
    EXPECT_TRUE(std::any_of(acks.begin(), acks.end(), [](const Event& e) { return e.irq; }))
        << "no server ACK flagged softirq:\n" << describe(acks);
    // Nothing the server's socket sent names the client.
    for (const auto& e : select(c_all.events(), [&](const Event& e) { return e.local.port == port; })) {
        EXPECT_NE(e.pid, static_cast<uint32_t>(client->pid())) << describe(e);
    }
    c_client.settle(200);
    EXPECT_FALSE(has_ack(c_client.events())) << "--pid of the client caught the server's ACK:\n"
                                             << describe(c_client.events());
    EXPECT_TRUE(c_server.wait_for(has_ack, 5)) << describe(c_server.events());
    client->send({{"type", "exit"}});
    server->send({{"type", "exit"}});
    client->join();
    server->join();
}

}  // namespace
}  // namespace ktest
