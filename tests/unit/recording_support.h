// Helpers for the tests that replay a run recorded on this kernel
// (scenarios/<scenario>/recording.jsonl, `tcpscope run <scenario> --json`)
// through the timeline and the facts, and alter it the way a different
// kernel behaviour would.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "catalog.h"
#include "facts.h"
#include "names.h"
#include "readiness.h"
#include "recording.h"
#include "timeline.h"

namespace tcpscope {
namespace testing_support {

// Where the run of `scenario` recorded on this kernel is: its folder
// (scenarios/<name>/recording.jsonl).
inline std::string recording_path(const std::string& scenario) {
    return std::string(TCPSCOPE_SCENARIO_SOURCES) + "/" + scenario + "/recording.jsonl";
}

inline Recording load(const std::string& scenario) {
    std::ifstream in(recording_path(scenario));
    EXPECT_TRUE(in.good()) << "recording " << recording_path(scenario) << " missing";
    Recording r = read_recording(in);
    EXPECT_EQ(r.malformed, 0u);
    return r;
}

inline std::vector<Verdict> verdicts_of(const Recording& r, const std::string& scenario) {
    Timeline timeline(r.steps, r.events);
    return evaluate(find_scenario(scenario)->facts, FactContext{timeline, r.reasons, r.kernel});
}

// The verdict on the fact with id `fact_id` ("zero-byte-send.zero-send-is-silent",
// declared beside the fact in scenarios/<name>/facts.cpp); fails the test
// when there is none.
inline Verdict verdict(const std::vector<Verdict>& verdicts, const std::string& fact_id) {
    for (const auto& v : verdicts) {
        if (v.fact_id == fact_id) return v;
    }
    ADD_FAILURE() << "no verdict on fact " << fact_id;
    return {};
}

// The scenario a fact's id belongs to: "zero-byte-send.peer-answers-rst"
// -> "zero-byte-send".
inline std::string scenario_of(const std::string& fact_id) { return fact_id.substr(0, fact_id.find('.')); }

// Judged on the altered recording `r`, the fact `failing` does not hold and
// `holding`, a fact of the same scenario about something else, still does:
// the alteration fails the fact about it, and not every fact.
inline testing::AssertionResult fails_and_holds(const Recording& r, const std::string& failing,
                                                const std::string& holding) {
    auto verdicts = verdicts_of(r, scenario_of(failing));
    Verdict f = verdict(verdicts, failing);
    Verdict h = verdict(verdicts, holding);
    if (f.ok) return testing::AssertionFailure() << failing << " holds: " << f.detail;
    if (!h.ok) return testing::AssertionFailure() << holding << " does not hold: " << h.detail;
    return testing::AssertionSuccess();
}

// The nth step of `side` that `match` matches; fails the test when none does.
inline Step* step(Recording& r, const std::string& side, const StepMatch& match, int nth = 0) {
    for (auto& s : r.steps) {
        if (s.side == side && match.matches(s) && nth-- == 0) return &s;
    }
    ADD_FAILURE() << "no step " << step_op_name(match.op) << " " << match.arg << " by the " << side;
    return nullptr;
}

// The events of `r` that `pred(event, side)` accepts, in recorded order;
// `side` is the event's side as the timeline sees it ("client", "server"
// or ""). The pointers last until `r.events` changes size.
template <class Pred>
std::vector<Event*> events_where(Recording& r, Pred pred) {
    Timeline timeline(r.steps, r.events);
    std::vector<Event*> out;
    for (auto& e : r.events) {
        if (pred(static_cast<const Event&>(e), timeline.side_of(e))) out.push_back(&e);
    }
    return out;
}

// The nth event that `pred(event, side)` accepts; fails the test when none does.
template <class Pred>
Event* event_where(Recording& r, Pred pred, size_t nth = 0) {
    auto found = events_where(r, pred);
    if (nth < found.size()) return found[nth];
    ADD_FAILURE() << "fewer than " << nth + 1 << " such events in the recording";
    return nullptr;
}

// Removes the events that `pred(event, side)` accepts; returns how many.
template <class Pred>
size_t erase_events(Recording& r, Pred pred) {
    Timeline timeline(r.steps, r.events);
    std::vector<bool> drop;
    for (const auto& e : r.events) drop.push_back(pred(e, timeline.side_of(e)));
    size_t i = 0;
    size_t before = r.events.size();
    r.events.erase(std::remove_if(r.events.begin(), r.events.end(),
                                  [&](const Event&) { return drop[i++]; }),
                   r.events.end());
    return before - r.events.size();
}

inline bool is_state(const Event& e, const std::string& from, const std::string& to) {
    return e.kind == EventKind::State && tcp_state_name(e.old_state) == from &&
           tcp_state_name(e.new_state) == to;
}

inline int state_value(const std::string& name) {
    auto v = tcp_state_from_name(name);
    EXPECT_TRUE(v.has_value()) << "no TCP state " << name;
    return v.value_or(0);
}

inline int errno_value(const std::string& name) {
    auto v = errno_from_name(name);
    EXPECT_TRUE(v.has_value()) << "no errno " << name;
    return v.value_or(0);
}

// The step returned -1 with `errno_name` (its call failed).
inline void make_fail(Step* s, const std::string& errno_name) {
    ASSERT_NE(s, nullptr);
    s->ret = -1;
    s->errno_name = errno_name;
}

// The last step of `side` that `match` matches; fails the test when none does.
inline Step* last_step(Recording& r, const std::string& side, const StepMatch& match) {
    Step* last = nullptr;
    for (auto& s : r.steps) {
        if (s.side == side && match.matches(s)) last = &s;
    }
    if (last == nullptr) {
        ADD_FAILURE() << "no step " << step_op_name(match.op) << " " << match.arg << " by the " << side;
    }
    return last;
}

// The kernel's result (a send or recv event, `kind`) for the call of step
// `s`; fails the test when there is none.
inline Event* kernel_result(Recording& r, const Step* s, EventKind kind) {
    return event_where(r, [&](const Event& e, const std::string& side) {
        return e.kind == kind && side == s->side && e.ts_ns >= s->start_ns && e.ts_ns <= s->ts_ns;
    });
}

// The step's call failed with `errno_name`, and so did the kernel's send
// or recv (`kind`) during it: -errno.
inline void fail_with_kernel(Recording& r, Step* s, EventKind kind, const std::string& errno_name) {
    ASSERT_NE(s, nullptr);
    make_fail(s, errno_name);
    Event* kernel = kernel_result(r, s, kind);
    ASSERT_NE(kernel, nullptr);
    kernel->ret = -errno_value(errno_name);
}

// The socket error the kernel set on `side`'s socket becomes `errno_name`.
inline void set_sock_error(Recording& r, const std::string& side, const std::string& errno_name) {
    Event* error = event_where(r, [&](const Event& e, const std::string& s) {
        return e.kind == EventKind::SockError && s == side;
    });
    ASSERT_NE(error, nullptr);
    error->error = errno_value(errno_name);
}

// The kernel's other path after the server's close(): the client's ACK of
// its FIN came while close() held the socket, so the full orphan stays in
// FIN_WAIT2 on a timer (no hand-over to a timewait mini-socket) until the
// client's data aborts it. The server's FIN_WAIT2 -> CLOSE moves to the RST
// it sends, which gets `reason` and comes from a mini-socket if `minisock`.
inline void keep_server_orphan(Recording& r, const std::string& reason, bool minisock) {
    Event* rst = event_where(r, [](const Event& e, const std::string& side) {
        return e.kind == EventKind::ResetSent && side == "server";
    });
    Event* handover = event_where(r, [](const Event& e, const std::string& side) {
        return side == "server" && is_state(e, "FIN_WAIT2", "CLOSE");
    });
    ASSERT_NE(rst, nullptr);
    ASSERT_NE(handover, nullptr);
    handover->ts_ns = rst->ts_ns;
    rst->minisock = minisock;
    rst->no_socket = false;
    rst->state = state_value("FIN_WAIT2");
    rst->reason = r.reasons.intern(reason);
}


// ---- What the tests of more than one scenario look for ----

inline const StepMatch kSend{StepOp::Send};
inline const StepMatch kPoll{StepOp::Poll};

// Event predicates for events_where, event_where and erase_events.
inline bool is_rst_sent(const Event& e, const std::string&) { return e.kind == EventKind::ResetSent; }
inline bool is_drop(const Event& e, const std::string&) { return e.kind == EventKind::Drop; }
inline bool is_signal(const Event& e, const std::string&) { return e.kind == EventKind::Signal; }
// A FIN segment of `want`'s side.
inline bool is_fin_from(const Event& e, const std::string& side, const std::string& want) {
    return e.kind == EventKind::Packet && (e.tcp_flags & TS_TCP_FIN) && side == want;
}

inline uint64_t cookie_of(const Recording& r, const std::string& side) {
    return Timeline(r.steps, r.events).cookie_of(side);
}

// The readiness step (poll, select, epoll_wait) reported `mask` for the
// socket `cookie` (or, with mask 0, nothing ready).
inline void report_ready(Step* s, uint64_t cookie, uint32_t mask) {
    ASSERT_NE(s, nullptr);
    s->ret = mask ? 1 : 0;
    s->info["ready"] = StepInfo::array();
    if (mask) {
        s->info["ready"].push_back(
            StepInfo{{"cookie", cookie}, {"events", readiness_names(mask)}, {"mask", mask}});
    }
}

}  // namespace testing_support
}  // namespace tcpscope
