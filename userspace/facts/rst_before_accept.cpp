// rst-before-accept: see ../shared/SCENARIOS.md. Facts are being written: until
// then the scenario declares none, and a scenario without facts fails.
#include "scenario_catalog.h"

namespace tcpscope {

ScenarioSpec rst_before_accept_scenario() {
    ScenarioSpec spec;
    spec.name = "rst-before-accept";
    spec.summary = "a connection reset before accept(): Linux still returns it; recv() gets ECONNRESET";
    spec.timeout_s = 30;
    return spec;
}

}  // namespace tcpscope
