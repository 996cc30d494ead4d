// peer-vanished: see ../shared/SCENARIOS.md. Facts are being written: until
// then the scenario declares none, and a scenario without facts fails.
#include "scenario_catalog.h"

namespace tcpscope {

ScenarioSpec peer_vanished_scenario() {
    ScenarioSpec spec;
    spec.name = "peer-vanished";
    spec.summary = "the peer's link goes down: retransmissions with backoff, then ETIMEDOUT";
    spec.timeout_s = 40;
    return spec;
}

}  // namespace tcpscope
