// sigpipe-default: see ../shared/SCENARIOS.md. Facts are being written: until
// then the scenario declares none, and a scenario without facts fails.
#include "scenario_catalog.h"

namespace tcpscope {

ScenarioSpec sigpipe_default_scenario() {
    ScenarioSpec spec;
    spec.name = "sigpipe-default";
    spec.summary = "as zero-byte-send, but SIGPIPE kills the client: exit status 141";
    spec.timeout_s = 30;
    return spec;
}

}  // namespace tcpscope
