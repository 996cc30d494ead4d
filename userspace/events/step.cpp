#include "step.h"

#include <iterator>

#include "names.h"

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

void step_to_json(const Step& s, StepInfo& j) {
    j["op"] = step_op_name(s.op);
    if (!s.arg.empty()) j["arg"] = s.arg;
    if (s.size >= 0) j["size"] = s.size;
    j["call"] = s.call;
    j["ret"] = s.ret;
    j["errno"] = s.errno_name.empty() ? StepInfo(nullptr) : StepInfo(s.errno_name);
    j["cookie"] = s.cookie;
    j["side"] = s.side;
    j["start_ns"] = s.start_ns;
    j["ts_ns"] = s.ts_ns;
    j["pid"] = s.pid;
    j["netns"] = s.netns;
    if (!s.local.empty()) j["local"] = s.local;
    if (!s.remote.empty()) j["remote"] = s.remote;
    if (!s.info.empty()) j["info"] = s.info;
}

std::string step_json_line(const Step& step) {
    StepInfo j = StepInfo::object();
    step_to_json(step, j);
    return j.dump(-1, ' ', false, StepInfo::error_handler_t::replace) + "\n";
}

std::optional<Step> parse_step(const std::string& line) {
    StepInfo j = StepInfo::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("call") || !j["call"].is_string()) return std::nullopt;
    Step s;
    try {
        if (j.contains("op") && j["op"].is_string()) {
            s.op = step_op_from_name(j["op"].get<std::string>()).value_or(StepOp::Other);
        }
        s.arg = j.value("arg", std::string());
        s.size = j.value("size", int64_t{-1});
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

std::optional<std::string> fetched_so_error(const Step& step) {
    if (step.op != StepOp::GetSockOpt || !step.info.contains("so_error")) return std::nullopt;
    const StepInfo& v = step.info["so_error"];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return v.get<int64_t>() == 0 ? std::string("0") : errno_name(static_cast<int>(v.get<int64_t>()));
    return std::nullopt;
}

}  // namespace tcpscope
