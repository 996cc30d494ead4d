// time-wait: see ../shared/SCENARIOS.md. Facts are being written: until
// then the scenario declares none, and a scenario without facts fails.
#include "scenario_catalog.h"

namespace tcpscope {

ScenarioSpec time_wait_scenario() {
    ScenarioSpec spec;
    spec.name = "time-wait";
    spec.summary = "the active closer ends in TIME_WAIT, invisible to tracepoints; bind() gets EADDRINUSE";
    spec.timeout_s = 30;
    return spec;
}

}  // namespace tcpscope
