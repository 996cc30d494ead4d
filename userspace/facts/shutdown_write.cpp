// shutdown-write: see ../shared/SCENARIOS.md. Facts are being written: until
// then the scenario declares none, and a scenario without facts fails.
#include "scenario_catalog.h"

namespace tcpscope {

ScenarioSpec shutdown_write_scenario() {
    ScenarioSpec spec;
    spec.name = "shutdown-write";
    spec.summary = "shutdown(SHUT_WR): half-close, the reply still arrives, TIME_WAIT before close()";
    spec.timeout_s = 30;
    return spec;
}

}  // namespace tcpscope
