// Runs one scenario program under tracing: probes attached first, then the
// program, its steps read from a pipe, kernel events filtered to the
// scenario's own namespaces and processes; everything it made is removed
// afterwards, whatever way it ended.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "event.h"
#include "kernel_support.h"
#include "facts.h"
#include "run_json.h"
#include "run_verdict.h"
#include "step.h"
#include "scenario_sandbox.h"
#include "tracer.h"

namespace tcpscope {

// Events the facts found counted by the kernel and never reported by its
// tracepoints (Verdict::untraced), over all of them.
uint64_t untraced(const std::vector<Verdict>& verdicts);

struct ScenarioOutcome {
    std::vector<Step> steps;
    std::vector<Event> events;      // only the scenario's own
    uint64_t lost = 0;
    std::vector<std::pair<std::string, uint64_t>> lost_by_reason;  // what lost adds up
    uint64_t undecodable_steps = 0;
    int exit_code = -1;             // the program's exit status, -1 if killed
    int term_signal = 0;            // the signal that killed it, 0 if none
    bool timed_out = false;
    bool interrupted = false;       // we were asked to stop (SIGINT, ...)
    std::string error;              // could not run at all (and why)
    uint64_t duration_ns = 0;
    KernelSupport kernel;           // what the kernel it ran on can show
    std::vector<std::string> warnings;  // event kinds this kernel left out

    bool ran_to_end() const { return error.empty() && !timed_out && !interrupted; }
    // The scenario passes: it ran to the end, its program exited 0, no
    // event was lost, and no fact failed (each held, or this kernel cannot
    // show it). With events lost it is not judged (run_verdict.h). The
    // summary line and the exit code both use this.
    RunVerdict verdict(const std::vector<Verdict>& verdicts) const;
    bool passed(const std::vector<Verdict>& verdicts) const {
        return verdict(verdicts) == RunVerdict::Pass;
    }
    // The scenario's summary line, given the verdicts of its facts (none
    // when it could not run).
    RunSummary summary(const std::string& scenario, const std::vector<Verdict>& verdicts) const;
};

struct ScenarioRunConfig {
    std::string program;     // path of the scenario executable
    ScenarioPrivilege privilege = ScenarioPrivilege::Loopback;
    int timeout_s = 60;
    uint32_t ringbuf_bytes = 16u << 20;
    bool verbose = false;
};

ScenarioOutcome run_scenario(const ScenarioRunConfig& config, TracerError* tracer_error);

// Where the scenario programs are: next to the tcpscope binary, or in
// $TCPSCOPE_SCENARIO_DIR.
std::string scenario_program_path(const std::string& name);
// The declared timeout, or $TCPSCOPE_SCENARIO_TIMEOUT seconds when set.
int scenario_timeout_s(int declared);

// "tsc-<pid>-": how the names of the namespaces scenario process pid
// makes begin (scenarios/lib/netns.h's netns_name).
std::string namespace_prefix(int pid);

// The network namespaces named tsc-<pid>-* (in /var/run/netns) that the
// scenario process pid made.
std::vector<std::string> named_namespaces(int pid);

// Removes network namespaces named tsc-<pid>-* that a scenario process
// left (it died before its own cleanup); returns how many.
int remove_leftover_namespaces(int pid);

}  // namespace tcpscope
