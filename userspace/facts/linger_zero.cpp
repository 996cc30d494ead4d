// linger-zero: see ../shared/SCENARIOS.md. Facts are being written: until
// then the scenario declares none, and a scenario without facts fails.
#include "scenario_catalog.h"

namespace tcpscope {

ScenarioSpec linger_zero_scenario() {
    ScenarioSpec spec;
    spec.name = "linger-zero";
    spec.summary = "SO_LINGER {1,0} close: RST at once, queued data dropped, no TIME_WAIT";
    spec.timeout_s = 30;
    return spec;
}

}  // namespace tcpscope
