// The JSON lines of `tcpscope run --json`: each step, each event with its
// scenario and side, a "verdict" per fact, and a per-scenario "summary"
// (schema v1, docs/schema.md). Each line is a field list walked by the fast
// JSON writer of `trace --json` (events/json_fields.h): an event's keys are
// event_fields, a step's step_fields (the step protocol's, the one the
// scenario programs write), so every command encodes them one way.
// Each function appends one line, without its newline.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "event.h"
#include "facts.h"
#include "names.h"
#include "step.h"
#include "wall_clock.h"

namespace tcpscope {

// The event's line plus "scenario" and "side" (null when `side` is empty);
// with a wall clock, "time" follows "ts_ns" as in `trace --json`.
void append_run_event_json(std::string& out, const Event& event, const ResetReasons& reasons,
                           const std::string& scenario, const std::string& side,
                           const WallClock* clock = nullptr);

// The step's protocol keys after "v", "type" and "scenario".
void append_run_step_json(std::string& out, const Step& step, const std::string& scenario);

void append_verdict_json(std::string& out, const Verdict& verdict, const std::string& scenario);

// What the summary line of one scenario says, as plain data.
struct RunSummary {
    std::string scenario;
    uint64_t facts = 0;
    uint64_t held = 0;
    uint64_t not_observable = 0;  // facts this kernel cannot show
    bool ok = false;
    // Events per JSON type, in the order each type first occurred.
    std::vector<std::pair<std::string, uint64_t>> counts;
    uint64_t steps = 0;
    uint64_t lost = 0;
    // Events the kernel counted that its tracepoints never reported (run's
    // facts, facts.h); the key "untraced" is written when not 0.
    uint64_t untraced = 0;
    // What lost adds up, by reason (JSON "lost_by_reason", written when
    // not empty): the kernel's ring buffer full, our programs skipped by
    // the kernel, and for exec the calls' records.
    std::vector<std::pair<std::string, uint64_t>> lost_by_reason;
    int exit_code = -1;
    int term_signal = 0;
    bool timed_out = false;
    uint64_t duration_ns = 0;
    std::string error;  // why it could not run; the key is left out when empty
    // run: "pass", "fail" or "not_judged" (events were lost, see
    // run_verdict.h); the key is left out when empty (exec).
    std::string verdict;

    // Adds one event of `type` to counts.
    void count(const std::string& type);
};

void append_run_summary_json(std::string& out, const RunSummary& summary);

}  // namespace tcpscope
