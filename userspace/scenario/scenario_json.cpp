#include "scenario_json.h"

namespace tcpscope {

Json step_to_json(const Step& s, const std::string& scenario) {
    Json j;
    j["v"] = kJsonSchemaVersion;
    j["type"] = "step";
    j["scenario"] = scenario;
    tcpscope::step_to_json(s, j);  // the step protocol's own keys (events/step.h)
    return j;
}

}  // namespace tcpscope
