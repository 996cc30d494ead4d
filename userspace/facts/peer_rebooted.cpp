// peer-rebooted: see ../shared/SCENARIOS.md. Facts are being written: until
// then the scenario declares none, and a scenario without facts fails.
#include "scenario_catalog.h"

namespace tcpscope {

ScenarioSpec peer_rebooted_scenario() {
    ScenarioSpec spec;
    spec.name = "peer-rebooted";
    spec.summary = "the peer comes back without the connection: RST (NO_SOCKET), ECONNRESET, then EPIPE";
    spec.timeout_s = 40;
    return spec;
}

}  // namespace tcpscope
