// fin-wait1-zero-window: see ../shared/SCENARIOS.md. Facts are being written: until
// then the scenario declares none, and a scenario without facts fails.
#include "scenario_catalog.h"

namespace tcpscope {

ScenarioSpec fin_wait1_zero_window_scenario() {
    ScenarioSpec spec;
    spec.name = "fin-wait1-zero-window";
    spec.summary = "a FIN queued behind unsent data: stuck in FIN_WAIT1 with zero-window probes";
    spec.timeout_s = 40;
    return spec;
}

}  // namespace tcpscope
