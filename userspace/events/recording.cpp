#include "recording.h"

#include "event_fields.h"
#include "json_field_reader.h"

namespace tcpscope {

std::optional<Event> event_from_json(const nlohmann::json& j, ResetReasons& reasons) {
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) return std::nullopt;
    auto kind = kind_from_name(j["type"].get<std::string>());
    if (!kind) return std::nullopt;
    Event e;
    e.kind = *kind;  // what the field list's presence depends on
    try {
        JsonFieldReader<> reader(j, reasons);
        event_fields(reader, e);
        reader.finish();
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
    return e;
}

Recording read_recording(std::istream& in) {
    Recording r;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            ++r.malformed;
            continue;
        }
        std::string type = j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : "";
        if (type == "step") {
            if (auto s = parse_step(line)) {
                r.steps.push_back(std::move(*s));
            } else {
                ++r.malformed;
            }
        } else if (type == "kernel") {
            if (auto k = kernel_support_from_json(nlohmann::ordered_json::parse(line))) {
                r.kernel = std::move(*k);
            } else {
                ++r.malformed;
            }
        } else if (auto e = event_from_json(j, r.reasons)) {
            r.events.push_back(std::move(*e));
        }
    }
    return r;
}

}  // namespace tcpscope
