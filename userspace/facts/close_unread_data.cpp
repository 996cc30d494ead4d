// close-unread-data: see ../shared/SCENARIOS.md. Facts are being written: until
// then the scenario declares none, and a scenario without facts fails.
#include "scenario_catalog.h"

namespace tcpscope {

ScenarioSpec close_unread_data_scenario() {
    ScenarioSpec spec;
    spec.name = "close-unread-data";
    spec.summary = "close() with unread data sends RST (not FIN); the peer gets ECONNRESET";
    spec.timeout_s = 30;
    return spec;
}

}  // namespace tcpscope
