// Kernel tier: who an event is attributed to, and what the process
// filters see of it (issue 16).
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
    control.netns = target->netns();
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

}  // namespace
}  // namespace ktest
