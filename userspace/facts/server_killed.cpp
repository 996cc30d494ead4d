// server-killed: see ../shared/SCENARIOS.md. Facts are being written: until
// then the scenario declares none, and a scenario without facts fails.
#include "scenario_catalog.h"

namespace tcpscope {

ScenarioSpec server_killed_scenario() {
    ScenarioSpec spec;
    spec.name = "server-killed";
    spec.summary = "SIGKILL on the server: the kernel sends its FIN; the client's send draws a RST, EPIPE";
    spec.timeout_s = 30;
    return spec;
}

}  // namespace tcpscope
