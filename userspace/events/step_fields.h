// The keys of a step (step.h), declared once: the step protocol's line
// (step_json_line, what the scenario programs write), its reader
// (parse_step) and `run --json`'s step lines (output/run_json.h) all walk
// step_fields. See record_fields.h for how a list is written.
#pragma once

#include <string>

#include "record_fields.h"
#include "step.h"

namespace tcpscope {

struct StepOpName {
    template <class Out>
    static void write(Out& out, StepOp op, const ResetReasons&) { out.name(step_op_name(op)); }
    template <class J>
    static void read(const J& j, StepOp& op, ResetReasons&) {
        if (j.is_string()) op = step_op_from_name(j.template get<std::string>()).value_or(StepOp::Other);
    }
};

// Keys in protocol order (step.h says what each is).
template <class F, class S>
void step_fields(F& f, S& s) {
    f.field("op", s.op, StepOpName{});
    if (f.when(!s.arg.empty(), "arg")) f.field("arg", s.arg);
    if (f.when(s.size >= 0, "size")) f.field("size", s.size);
    f.required("call", s.call);
    f.field("ret", s.ret);
    f.field("errno", s.errno_name, NameOrNull{});
    f.field("cookie", s.cookie);
    f.field("side", s.side);
    f.field("start_ns", s.start_ns, same_as(s.ts_ns));
    f.field("ts_ns", s.ts_ns);
    f.field("pid", s.pid);
    f.field("netns", s.netns);
    if (f.when(!s.local.empty(), "local")) f.field("local", s.local);
    if (f.when(!s.remote.empty(), "remote")) f.field("remote", s.remote);
    if (f.when(!s.info.empty(), "info")) f.field("info", s.info);
}

}  // namespace tcpscope
