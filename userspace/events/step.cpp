#include "step.h"

namespace tcpscope {

std::optional<Step> parse_step(const std::string& line) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("call") || !j["call"].is_string()) return std::nullopt;
    Step s;
    try {
        s.call = j["call"].get<std::string>();
        s.ret = j.value("ret", int64_t{0});
        if (j.contains("errno") && j["errno"].is_string()) s.errno_name = j["errno"].get<std::string>();
        s.cookie = j.value("cookie", uint64_t{0});
        s.side = j.value("side", std::string());
        s.ts_ns = j.value("ts_ns", uint64_t{0});
        s.start_ns = j.value("start_ns", s.ts_ns);
        s.pid = j.value("pid", uint32_t{0});
        s.netns = j.value("netns", uint32_t{0});
        s.local = j.value("local", std::string());
        s.remote = j.value("remote", std::string());
        if (j.contains("info") && j["info"].is_object()) s.info = j["info"];
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;  // a key of the wrong type
    }
    return s;
}

}  // namespace tcpscope
