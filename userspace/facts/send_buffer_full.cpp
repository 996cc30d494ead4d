// send-buffer-full: see ../shared/SCENARIOS.md. Facts are being written: until
// then the scenario declares none, and a scenario without facts fails.
#include "scenario_catalog.h"

namespace tcpscope {

ScenarioSpec send_buffer_full_scenario() {
    ScenarioSpec spec;
    spec.name = "send-buffer-full";
    spec.summary = "a receiver that never reads: full sends, a short count, then EAGAIN";
    spec.timeout_s = 30;
    return spec;
}

}  // namespace tcpscope
