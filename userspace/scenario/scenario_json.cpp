#include "scenario_json.h"

namespace tcpscope {

Json step_to_json(const Step& s, const std::string& scenario) {
    Json j;
    j["v"] = kJsonSchemaVersion;
    j["type"] = "step";
    j["scenario"] = scenario;
    j["ts_ns"] = s.ts_ns;
    j["start_ns"] = s.start_ns;
    j["pid"] = s.pid;
    j["side"] = s.side;
    j["call"] = s.call;
    j["ret"] = s.ret;
    j["errno"] = s.errno_name.empty() ? Json(nullptr) : Json(s.errno_name);
    j["cookie"] = s.cookie;
    j["netns"] = s.netns;
    if (!s.local.empty()) j["local"] = s.local;
    if (!s.remote.empty()) j["remote"] = s.remote;
    if (!s.info.empty()) j["info"] = Json::parse(s.info.dump());
    return j;
}

}  // namespace tcpscope
