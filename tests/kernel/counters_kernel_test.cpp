// Kernel tier: event counts against the namespace's own SNMP counters
// (nstat run inside the test's namespace), which we did not write.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "kernel_test_support.h"

namespace ktest {
namespace {

using tcpscope::FilterOptions;
using tcpscope::KernelLosses;
using tcpscope::tcp_state_name;

size_t count(const std::vector<Event>& events, const std::function<bool(const Event&)>& pred) {
    return static_cast<size_t>(std::count_if(events.begin(), events.end(), pred));
}

bool is_transition(const Event& e, std::initializer_list<const char*> from, const char* to) {
    if (e.kind != EventKind::State || tcp_state_name(e.new_state) != to) return false;
    for (const char* f : from) {
        if (tcp_state_name(e.old_state) == f) return true;
    }
    return false;
}

// Does `aborts` SO_LINGER-0 closes of established loopback connections and
// `refused` connects to a closed port, all in its own namespace.
void reset_storm_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-storm");
    json m = io.expect("go");
    int aborts = m.at("aborts");
    int refused = m.at("refused");
    uint16_t port = m.at("port");
    uint16_t closed_port = m.at("closed_port");
    int lfd = tcp_listen("127.0.0.1", port);
    int peer_resets = 0;
    for (int i = 0; i < aborts; ++i) {
        int cfd = tcp_connect("127.0.0.1", port);
        if (cfd < 0) {
            errno = -cfd;
            fail("connect");
        }
        int afd = accept_timeout(lfd, 5000);
        set_linger_zero(cfd);
        close(cfd);
        char c;
        if (recv(afd, &c, 1, 0) < 0 && errno == ECONNRESET) ++peer_resets;
        close(afd);
    }
    close(lfd);
    int refusals = 0;
    for (int i = 0; i < refused; ++i) {
        int r = tcp_connect("127.0.0.1", closed_port);
        if (r == -ECONNREFUSED) {
            ++refusals;
        } else if (r >= 0) {
            close(r);
        }
    }
    io.report({{"type", "done"}, {"peer_resets", peer_resets}, {"refusals", refusals}});
    io.expect("exit");
}

// 5. N aborts and M refused connects: tcpscope's event counts equal the
// namespace's kernel counters. Before 6.10, tcp_send_reset does not fire for
// the RSTs sent with no socket (the refusals): then reset_sent counts only
// the aborts' RSTs, and the test skips naming what it could not count.
TEST(KernelCounters, ResetAndRefusalCountsMatchNstat) {
    KTEST_REQUIRE_ROOT();
    const bool rst_all = kernel_support().shows(tcpscope::KernelFeature::ResetWithoutSocket);
    const int kAborts = 20;
    const int kRefused = 15;
    auto storm = Helper::in_new_netns(reset_storm_body);

    Capture cap;
    FilterOptions options;
    options.netns = storm->netns_path();
    std::string error;
    ASSERT_TRUE(cap.start(options, &error)) << error;

    auto before = nstat(storm->pid());
    const uint16_t port = unique_port();
    storm->send({{"type", "go"},
                 {"aborts", kAborts},
                 {"refused", kRefused},
                 {"port", port},
                 {"closed_port", static_cast<uint16_t>(port + 1)}});
    json done = storm->expect("done", 20000);
    auto after = nstat(storm->pid());
    ASSERT_EQ(done.at("peer_resets"), kAborts) << "the peers' recv() did not all see ECONNRESET";
    ASSERT_EQ(done.at("refusals"), kRefused);

    auto is_kind = [](EventKind k) { return [k](const Event& e) { return e.kind == k; }; };
    const uint64_t out_rsts = counter_delta(before, after, "TcpOutRsts");
    const uint64_t socket_rsts_k = counter_delta(before, after, "TcpExtTCPAbortOnData") +
                                   counter_delta(before, after, "TcpExtTCPAbortOnClose") +
                                   counter_delta(before, after, "TcpExtTCPAbortOnLinger");
    const uint64_t visible_rsts = rst_all ? out_rsts : socket_rsts_k;
    // Wait until at least as many RSTs as the kernel counted have arrived,
    // then give stragglers (which would be a bug) time to show up.
    cap.wait_for([&](const std::vector<Event>& ev) { return count(ev, is_kind(EventKind::ResetSent)) >= visible_rsts &&
                                                            count(ev, is_kind(EventKind::SockError)) >= static_cast<size_t>(kAborts + kRefused); },
                 10);
    cap.settle(300);
    const auto& events = cap.events();
    EXPECT_EQ(cap.tracer().lost_total(), 0u);

    const size_t resets_sent = count(events, is_kind(EventKind::ResetSent));
    const size_t resets_sent_no_socket =
        count(events, [](const Event& e) { return e.kind == EventKind::ResetSent && e.no_socket; });
    const size_t resets_sent_socket = resets_sent - resets_sent_no_socket;
    const size_t resets_received = count(events, is_kind(EventKind::ResetReceived));
    const size_t refused_errors = count(events, [](const Event& e) {
        return e.kind == EventKind::SockError && e.error == ECONNREFUSED;
    });
    const size_t reset_errors = count(events, [](const Event& e) {
        return e.kind == EventKind::SockError && e.error == ECONNRESET;
    });
    const size_t attempt_fails = count(events, [](const Event& e) {
        return is_transition(e, {"SYN_SENT", "SYN_RECV"}, "CLOSE");
    });
    const size_t estab_resets = count(events, [](const Event& e) {
        return is_transition(e, {"ESTABLISHED", "CLOSE_WAIT"}, "CLOSE");
    });
    const size_t active_opens =
        count(events, [](const Event& e) { return is_transition(e, {"CLOSE"}, "SYN_SENT"); });
    const size_t passive_opens =
        count(events, [](const Event& e) { return is_transition(e, {"LISTEN"}, "SYN_RECV"); });

    const uint64_t attempt_fails_k = counter_delta(before, after, "TcpAttemptFails");
    const uint64_t estab_resets_k = counter_delta(before, after, "TcpEstabResets");
    const uint64_t abort_on_data_k = counter_delta(before, after, "TcpExtTCPAbortOnData");
    const uint64_t abort_on_close_k = counter_delta(before, after, "TcpExtTCPAbortOnClose");
    const uint64_t abort_on_linger_k = counter_delta(before, after, "TcpExtTCPAbortOnLinger");
    const uint64_t active_opens_k = counter_delta(before, after, "TcpActiveOpens");
    const uint64_t passive_opens_k = counter_delta(before, after, "TcpPassiveOpens");
    const uint64_t in_errs_k = counter_delta(before, after, "TcpInErrs");

    std::printf(
        "[ counts   ] %d SO_LINGER-0 closes, %d connects to a closed port\n"
        "[ counts   ] reset_sent events        %zu  | TcpOutRsts                %llu\n"
        "[ counts   ]   from a socket          %zu  | TcpExtTCPAbortOnData      %llu "
        "(AbortOnClose %llu, AbortOnLinger %llu)\n"
        "[ counts   ]   no socket              %zu\n"
        "[ counts   ] reset_received events    %zu\n"
        "[ counts   ] SYN_SENT|SYN_RECV->CLOSE %zu  | TcpAttemptFails           %llu\n"
        "[ counts   ] sock_error ECONNREFUSED  %zu  | (connects refused        %d)\n"
        "[ counts   ] sock_error ECONNRESET    %zu\n"
        "[ counts   ] ESTAB|CLOSE_WAIT->CLOSE  %zu  | TcpEstabResets            %llu\n"
        "[ counts   ] CLOSE->SYN_SENT          %zu  | TcpActiveOpens            %llu\n"
        "[ counts   ] LISTEN->SYN_RECV         %zu  | TcpPassiveOpens           %llu\n"
        "[ counts   ] lost                     %llu | TcpInErrs %llu\n",
        kAborts, kRefused, resets_sent, static_cast<unsigned long long>(out_rsts),
        resets_sent_socket, static_cast<unsigned long long>(abort_on_data_k),
        static_cast<unsigned long long>(abort_on_close_k),
        static_cast<unsigned long long>(abort_on_linger_k), resets_sent_no_socket,
        resets_received, attempt_fails, static_cast<unsigned long long>(attempt_fails_k),
        refused_errors, kRefused, reset_errors, estab_resets,
        static_cast<unsigned long long>(estab_resets_k), active_opens,
        static_cast<unsigned long long>(active_opens_k), passive_opens,
        static_cast<unsigned long long>(passive_opens_k),
        static_cast<unsigned long long>(cap.tracer().lost_total()),
        static_cast<unsigned long long>(in_errs_k));
    std::fflush(stdout);
    RecordProperty("reset_sent", static_cast<int>(resets_sent));
    RecordProperty("TcpOutRsts", static_cast<int>(out_rsts));

    // The kernel's counters against what the workload must have caused...
    EXPECT_EQ(out_rsts, static_cast<uint64_t>(kAborts + kRefused));
    EXPECT_EQ(attempt_fails_k, static_cast<uint64_t>(kRefused));
    // ...and tcpscope's events against the kernel's counters.
    if (rst_all) {
        EXPECT_EQ(resets_sent, out_rsts);
        EXPECT_EQ(resets_sent_no_socket, static_cast<size_t>(kRefused));
    } else {
        EXPECT_EQ(resets_sent_no_socket, 0u) << "a RST this kernel does not report";
    }
    EXPECT_EQ(resets_sent_socket, abort_on_data_k + abort_on_close_k + abort_on_linger_k);
    EXPECT_EQ(attempt_fails, attempt_fails_k);
    EXPECT_EQ(refused_errors, attempt_fails_k);
    EXPECT_EQ(estab_resets, estab_resets_k);
    EXPECT_EQ(active_opens, active_opens_k);
    EXPECT_EQ(passive_opens, passive_opens_k);
    // Every RST sent here was received by a socket here.
    EXPECT_EQ(resets_received, out_rsts);
    // Every event is from this namespace and names the workload's process,
    // but a RST sent by a mini-socket or with no socket: no process sends
    // those, and they name nobody.
    for (const auto& e : events) {
        EXPECT_EQ(e.netns, storm->netns()) << describe(e);
        if (e.minisock || e.no_socket) {
            EXPECT_EQ(e.attribution, "unknown") << describe(e);
            EXPECT_EQ(e.pid, 0u) << describe(e);
        } else {
            EXPECT_EQ(e.pid, static_cast<uint32_t>(storm->pid())) << describe(e);
        }
    }

    storm->send({{"type", "exit"}});
    storm->join();
    cap.finish();
    if (!rst_all && !HasFailure()) {
        GTEST_SKIP() << "needs the RSTs sent with no socket, which tcp_send_reset reports from "
                     << "Linux 6.10; " << this_kernel() << " does not (checked: the aborts' RSTs "
                     << "against TcpExtTCPAbortOn*, none made up for the refusals, every other "
                     << "count)";
    }
}

// ---------------------------------------------------------- retransmits

// Deletes a veth pair (by one end, in a helper's namespace) on every path.
class VethGuard {
public:
    VethGuard(pid_t ns_pid, std::string dev) : ns_pid_(ns_pid), dev_(std::move(dev)) {}
    ~VethGuard() { remove(); }
    void remove() {
        if (ns_pid_ <= 0) return;
        run_command({"nsenter", "-t", std::to_string(ns_pid_), "-n", "--", "ip", "link", "del",
                     dev_});
        ns_pid_ = -1;
    }

private:
    pid_t ns_pid_;
    std::string dev_;
};

void retrans_server_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-rserver");
    json m = io.expect("listen");
    int lfd = tcp_listen(m.at("addr"), m.at("port"));
    io.report({{"type", "listening"}});
    int afd = accept_timeout(lfd, 10000);
    io.report({{"type", "accepted"}, {"cookie", socket_cookie(afd)}});
    io.expect("exit");
    close(afd);
    close(lfd);
}

void retrans_client_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-rclient");
    json m = io.expect("connect");
    int fd = tcp_connect(m.at("addr"), m.at("port"));
    if (fd < 0) {
        errno = -fd;
        fail("connect");
    }
    unsigned timeout_ms = m.at("user_timeout_ms");
    if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms, sizeof(timeout_ms)) != 0) {
        fail("TCP_USER_TIMEOUT");
    }
    io.report({{"type", "connected"}, {"cookie", socket_cookie(fd)}, {"port", local_port(fd)}});
    io.expect("send");
    char data[100];
    std::memset(data, 'x', sizeof(data));
    ssize_t n = send(fd, data, sizeof(data), 0);
    if (n != static_cast<ssize_t>(sizeof(data))) fail("send");
    uint64_t start = tcpscope::monotonic_ns();
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, 15000);
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    io.report({{"type", "failed"},
               {"poll", r},
               {"so_error", err},
               {"after_ms", (tcpscope::monotonic_ns() - start) / 1000000}});
    io.expect("exit");
    close(fd);
}

enum class Break { LinkDown, AddressGone };

// 4. The peer stops answering while we send: retransmits with backoff,
// then ETIMEDOUT from TCP_USER_TIMEOUT; the retransmit events that really
// sent a segment (err 0) match the namespace's TcpRetransSegs.
// Before 6.17, tcp_retransmit_skb has no err and fires only for the
// retransmits that were sent: then err must be null and every event counts
// as sent; *err_checked says that failed attempts could not be checked.
void retransmits_until_user_timeout(Break how, bool* err_checked) {
    const bool has_err = kernel_support().shows(tcpscope::KernelFeature::RetransmitResult);
    *err_checked = has_err;
    auto server = Helper::in_new_netns(retrans_server_body);
    auto client = Helper::in_new_netns(retrans_client_body);
    ASSERT_NE(server->netns(), client->netns());

    const std::string tag = "tst-" + std::to_string(getpid() % 100000);
    const std::string dev_a = tag + "-a", dev_b = tag + "-b";
    const int subnet = 1 + getpid() % 250;
    const std::string addr_a = "10.201." + std::to_string(subnet) + ".1";
    const std::string addr_b = "10.201." + std::to_string(subnet) + ".2";
    const std::string mac_a = "02:00:0a:c9:00:01", mac_b = "02:00:0a:c9:00:02";
    VethGuard guard(client->pid(), dev_a);
    run_in_netns(client->pid(), {"ip", "link", "add", dev_a, "address", mac_a, "type", "veth",
                                 "peer", "name", dev_b, "address", mac_b, "netns",
                                 std::to_string(server->pid())});
    run_in_netns(client->pid(), {"ip", "addr", "add", addr_a + "/24", "dev", dev_a});
    run_in_netns(client->pid(), {"ip", "link", "set", dev_a, "up"});
    // Static neighbours: no ARP traffic that could hold packets back.
    run_in_netns(client->pid(), {"ip", "neigh", "replace", addr_b, "lladdr", mac_b, "dev", dev_a,
                                 "nud", "permanent"});
    run_in_netns(server->pid(), {"ip", "addr", "add", addr_b + "/24", "dev", dev_b});
    run_in_netns(server->pid(), {"ip", "link", "set", dev_b, "up"});
    run_in_netns(server->pid(), {"ip", "neigh", "replace", addr_a, "lladdr", mac_a, "dev", dev_b,
                                 "nud", "permanent"});
    // The veth ends exist only inside the test's namespaces.
    EXPECT_NE(run_command({"ip", "link", "show", dev_a}).status, 0);

    Capture cap;
    FilterOptions options;
    options.netns = client->netns_path();
    std::string error;
    ASSERT_TRUE(cap.start(options, &error)) << error;

    const uint16_t port = unique_port();
    server->send({{"type", "listen"}, {"addr", addr_b}, {"port", port}});
    server->expect("listening");
    client->send(
        {{"type", "connect"}, {"addr", addr_b}, {"port", port}, {"user_timeout_ms", 3000}});
    json connected = client->expect("connected");
    uint64_t cookie = connected.at("cookie");
    server->expect("accepted");

    // perf on the same tracepoint, for this connection's segments only
    // (its port is unique on the host while the test runs): how often the
    // kernel fired it, whoever listened.
    ktest::TracepointWitness witness("tcp:tcp_retransmit_skb", "dport == " + std::to_string(port));
    if (how == Break::LinkDown) {
        run_in_netns(server->pid(), {"ip", "link", "set", dev_b, "down"});
    } else {
        // The server host loses its address: our segments reach it and are dropped.
        run_in_netns(server->pid(), {"ip", "addr", "flush", "dev", dev_b});
    }
    auto before = nstat(client->pid());
    client->send({{"type", "send"}});
    json failed = client->expect("failed", 20000);
    auto after = nstat(client->pid());
    EXPECT_EQ(failed.at("so_error"), ETIMEDOUT) << failed.dump();
    EXPECT_GE(failed.at("after_ms").get<int>(), 1500) << failed.dump();

    auto is_error = [&](const Event& e) {
        return e.kind == EventKind::SockError && e.cookie == cookie;
    };
    ASSERT_TRUE(cap.wait_for(
        [&](const std::vector<Event>& ev) { return std::any_of(ev.begin(), ev.end(), is_error); },
        10))
        << describe(cap.events());
    cap.settle(200);
    const std::optional<uint64_t> fired = witness.stop();
    const auto& events = cap.events();
    auto retrans = select(events, [&](const Event& e) {
        return e.kind == EventKind::Retransmit && e.cookie == cookie;
    });
    const uint64_t retrans_segs = counter_delta(before, after, "TcpRetransSegs");
    const uint64_t retrans_fail_k = counter_delta(before, after, "TcpExtTCPRetransFail");
    const uint64_t abort_on_timeout_k = counter_delta(before, after, "TcpExtTCPAbortOnTimeout");
    const size_t sent_ok = has_err ? count(retrans, [](const Event& e) { return e.err && *e.err == 0; })
                                   : retrans.size();
    const size_t busy = count(retrans, [](const Event& e) { return e.err && *e.err == -EBUSY; });
    const size_t failed_other = retrans.size() - sent_ok - busy;
    // Retransmit events the kernel side could not deliver (any socket:
    // a skipped program run is counted before filtering).
    const KernelLosses losses = cap.tracer().losses();
    const uint64_t lost_retrans = losses.ringbuf_full[TS_KIND_RETRANSMIT] +
                                  losses.program_skipped[TS_KIND_RETRANSMIT];
    std::printf(
        "[ counts   ] %s: retransmit events %zu (err 0: %zu, EBUSY: %zu, other: %zu) | "
        "lost %llu | TcpRetransSegs %llu | TcpExtTCPRetransFail %llu | "
        "TcpExtTCPAbortOnTimeout %llu | ETIMEDOUT after %d ms\n",
        how == Break::LinkDown ? "link down" : "address gone", retrans.size(), sent_ok, busy,
        failed_other, static_cast<unsigned long long>(lost_retrans),
        static_cast<unsigned long long>(retrans_segs),
        static_cast<unsigned long long>(retrans_fail_k),
        static_cast<unsigned long long>(abort_on_timeout_k), failed.at("after_ms").get<int>());
    std::fflush(stdout);

    // At least three (about 200, 600 and 1400 ms after the send, well
    // before the 3 s timeout even when a loaded machine delays the timers),
    // so that the backoff check below compares two gaps at least.
    ASSERT_GE(retrans.size(), 3u) << describe(events);
    for (const auto& e : retrans) {
        if (has_err) {
            EXPECT_TRUE(e.err.has_value()) << "6.17+ reports err\n" << describe(e);
        } else {
            EXPECT_FALSE(e.err.has_value()) << "an err this kernel does not give\n" << describe(e);
        }
    }
    // A segment really went out exactly when the kernel counted it; an
    // event we did not see must have been counted lost (none, usually).
    EXPECT_LE(sent_ok, retrans_segs) << describe(events);
    const uint64_t unseen = retrans_segs - std::min<uint64_t>(sent_ok, retrans_segs);
    if (unseen > lost_retrans && fired && *fired < retrans.size() + unseen &&
        retrans.size() + lost_retrans >= *fired) {
        // Now and then (a timer's send on a loaded machine) the kernel
        // counts a retransmit in TcpRetransSegs and fires no tracepoint
        // for it: perf on the tracepoint itself misses it as we do. Then
        // every retransmit the tracepoint reported must be ours or counted
        // lost, and the counter's surplus is the kernel's.
        std::printf("note: TcpRetransSegs counted %llu retransmits; the tracepoint fired %llu "
                    "times (perf), every one of them delivered or counted lost\n",
                    static_cast<unsigned long long>(retrans_segs),
                    static_cast<unsigned long long>(*fired));
    } else {
        EXPECT_LE(unseen, lost_retrans)
            << "a retransmit the kernel counted is neither delivered nor counted lost (perf saw "
            << (fired ? std::to_string(*fired) : std::string("nothing: no perf")) << ")\n"
            << describe(events);
    }
    // Failures other than "original still queued" (EBUSY) are counted too.
    if (has_err) EXPECT_EQ(failed_other, retrans_fail_k) << describe(events);
    if (how == Break::AddressGone) {
        // Nothing holds the packets back: every attempt is a real retransmit.
        EXPECT_EQ(sent_ok, retrans.size()) << describe(events);
        EXPECT_GE(retrans_segs, 2u);
    }
    EXPECT_EQ(abort_on_timeout_k, 1u);
    // Exponential backoff: each gap at least ~1.5x the previous one.
    for (size_t i = 2; i < retrans.size(); ++i) {
        uint64_t prev = retrans[i - 1].ts_ns - retrans[i - 2].ts_ns;
        uint64_t gap = retrans[i].ts_ns - retrans[i - 1].ts_ns;
        EXPECT_GE(gap * 2, prev * 3) << "retransmit " << i << ": gap " << gap << " ns after "
                                     << prev << " ns";
    }
    for (const auto& e : retrans) {
        EXPECT_EQ(tcp_state_name(e.state), "ESTABLISHED") << describe(e);
        EXPECT_EQ(e.local, (tcpscope::Endpoint{addr_a, connected.at("port").get<uint16_t>()}));
        EXPECT_EQ(e.remote, (tcpscope::Endpoint{addr_b, port}));
        // Timers run in softirq; the event still names the socket's owner.
        EXPECT_EQ(e.pid, static_cast<uint32_t>(client->pid())) << describe(e);
        EXPECT_EQ(e.comm, "tst-rclient");
    }
    auto errors = select(events, is_error);
    ASSERT_EQ(errors.size(), 1u) << describe(events);
    EXPECT_EQ(errors[0].error, ETIMEDOUT);
    EXPECT_GT(errors[0].ts_ns, retrans.empty() ? 0 : retrans.back().ts_ns);
    EXPECT_EQ(errors[0].pid, static_cast<uint32_t>(client->pid()));
    auto last = select(events, [&](const Event& e) {
        return e.kind == EventKind::State && e.cookie == cookie;
    });
    ASSERT_FALSE(last.empty());
    EXPECT_EQ(transitions({last.back()}), (std::vector<std::string>{"ESTABLISHED->CLOSE"}));

    client->send({{"type", "exit"}});
    server->send({{"type", "exit"}});
    client->join();
    server->join();
    guard.remove();
    cap.finish();
}

const char* kNoRetransmitErr =
    "needs the failed retransmit attempts and their err, which tcp_retransmit_skb reports from "
    "Linux 6.17; ";
const char* kNoRetransmitErrChecked =
    " reports only the retransmits that were sent (checked: those against TcpRetransSegs, err "
    "null, the backoff, ETIMEDOUT and the owner)";

TEST(KernelCounters, RetransmitsUntilUserTimeoutPeerAddressGone) {
    KTEST_REQUIRE_ROOT();
    bool err_checked = false;
    retransmits_until_user_timeout(Break::AddressGone, &err_checked);
    if (!err_checked && !HasFailure()) {
        GTEST_SKIP() << kNoRetransmitErr << this_kernel() << kNoRetransmitErrChecked;
    }
}

TEST(KernelCounters, RetransmitsUntilUserTimeoutPeerLinkDown) {
    KTEST_REQUIRE_ROOT();
    bool err_checked = false;
    retransmits_until_user_timeout(Break::LinkDown, &err_checked);
    if (!err_checked && !HasFailure()) {
        GTEST_SKIP() << kNoRetransmitErr << this_kernel() << kNoRetransmitErrChecked;
    }
}

}  // namespace
}  // namespace ktest
