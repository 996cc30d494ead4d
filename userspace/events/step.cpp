#include "step.h"

#include <iterator>

#include "json_field_reader.h"
#include "json_fields.h"
#include "names.h"
#include "step_fields.h"

namespace tcpscope {

namespace {

const char* const kOpNames[] = {
    "other",      "bind",       "listen",          "connect",        "accept",
    "close",      "shutdown",   "send",            "recv",           "poll",
    "getsockopt", "setsockopt", "set_nonblocking", "ignore_sigpipe", "sock_diag",
    "kill",       "wait",       "command",         "select",         "epoll_ctl",
    "epoll_wait",
};
static_assert(std::size(kOpNames) == static_cast<size_t>(StepOp::EpollWait) + 1,
              "one name per StepOp");

}  // namespace

const char* step_op_name(StepOp op) {
    auto i = static_cast<size_t>(op);
    return i < std::size(kOpNames) ? kOpNames[i] : "other";
}

std::optional<StepOp> step_op_from_name(const std::string& name) {
    for (size_t i = 0; i < std::size(kOpNames); ++i) {
        if (name == kOpNames[i]) return static_cast<StepOp>(i);
    }
    return std::nullopt;
}

namespace {
const ResetReasons kNoReasons;  // a step names no reset reason
}  // namespace

void step_to_json(const Step& step, StepInfo& j) {
    TreeJsonFields f(j, kNoReasons, nullptr);
    step_fields(f, step);
}

std::string step_json_line(const Step& step) {
    std::string line;
    append_record_json(line, step, [](auto& f, const Step& s) { step_fields(f, s); }, kNoReasons, nullptr);
    line += '\n';
    return line;
}

std::optional<Step> parse_step(const std::string& line) {
    StepInfo j = StepInfo::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return std::nullopt;
    Step s;
    try {
        ResetReasons no_reasons;
        JsonFieldReader<StepInfo> reader(j, no_reasons);
        step_fields(reader, s);
        reader.finish();
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;  // no call, or a key of the wrong type
    }
    return s;
}

std::optional<std::string> fetched_so_error(const Step& step) {
    if (step.op != StepOp::GetSockOpt || !step.info.contains("so_error")) return std::nullopt;
    const StepInfo& v = step.info["so_error"];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return v.get<int64_t>() == 0 ? std::string("0") : errno_name(static_cast<int>(v.get<int64_t>()));
    return std::nullopt;
}

}  // namespace tcpscope
