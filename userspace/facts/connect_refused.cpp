// connect-refused: see ../shared/SCENARIOS.md. Facts are being written: until
// then the scenario declares none, and a scenario without facts fails.
#include "scenario_catalog.h"

namespace tcpscope {

ScenarioSpec connect_refused_scenario() {
    ScenarioSpec spec;
    spec.name = "connect-refused";
    spec.summary = "connect() to a port with no listener: RST (NO_SOCKET), ECONNREFUSED";
    spec.timeout_s = 30;
    return spec;
}

}  // namespace tcpscope
