// close-wait-forever: see ../shared/SCENARIOS.md. Facts are being written: until
// then the scenario declares none, and a scenario without facts fails.
#include "scenario_catalog.h"

namespace tcpscope {

ScenarioSpec close_wait_forever_scenario() {
    ScenarioSpec spec;
    spec.name = "close-wait-forever";
    spec.summary = "a peer that never closes stays in CLOSE_WAIT; the FIN_WAIT2 orphan expires silently";
    spec.timeout_s = 40;
    return spec;
}

}  // namespace tcpscope
