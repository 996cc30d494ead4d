// econnreset-then-sigpipe: see ../shared/SCENARIOS.md. Facts are being written: until
// then the scenario declares none, and a scenario without facts fails.
#include "scenario_catalog.h"

namespace tcpscope {

ScenarioSpec econnreset_then_sigpipe_scenario() {
    ScenarioSpec spec;
    spec.name = "econnreset-then-sigpipe";
    spec.summary = "a RST in ESTABLISHED: send() fails with ECONNRESET, no SIGPIPE; the next send raises it";
    spec.timeout_s = 30;
    return spec;
}

}  // namespace tcpscope
