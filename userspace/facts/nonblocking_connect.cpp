// nonblocking-connect: see ../shared/SCENARIOS.md. Facts are being written: until
// then the scenario declares none, and a scenario without facts fails.
#include "scenario_catalog.h"

namespace tcpscope {

ScenarioSpec nonblocking_connect_scenario() {
    ScenarioSpec spec;
    spec.name = "nonblocking-connect";
    spec.summary = "non-blocking connect() is EINPROGRESS even on loopback; SO_ERROR tells the result";
    spec.timeout_s = 30;
    return spec;
}

}  // namespace tcpscope
