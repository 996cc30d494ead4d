#include "run_verdict.h"

namespace tcpscope {

RunVerdict run_verdict(bool ran_ok, bool facts_hold, uint64_t lost, uint64_t untraced) {
    if (!ran_ok) return RunVerdict::Fail;
    if (lost > 0) return RunVerdict::NotJudged;
    if (!facts_hold) return RunVerdict::Fail;
    return untraced > 0 ? RunVerdict::NotJudged : RunVerdict::Pass;
}

const char* run_verdict_word(RunVerdict verdict) {
    switch (verdict) {
        case RunVerdict::Pass: return "pass";
        case RunVerdict::Fail: return "FAIL";
        case RunVerdict::NotJudged: return "NOT JUDGED";
    }
    return "FAIL";
}

const char* run_verdict_key(RunVerdict verdict) {
    switch (verdict) {
        case RunVerdict::Pass: return "pass";
        case RunVerdict::Fail: return "fail";
        case RunVerdict::NotJudged: return "not_judged";
    }
    return "fail";
}

std::string run_verdict_text(RunVerdict verdict, uint64_t lost, uint64_t untraced) {
    std::string text = run_verdict_word(verdict);
    if (verdict != RunVerdict::NotJudged) return text;
    if (lost > 0) {
        text += " (" + std::to_string(lost) + (lost == 1 ? " event" : " events") +
                " lost: the facts could not be judged)";
    } else {
        text += " (" + std::to_string(untraced) + (untraced == 1 ? " event" : " events") +
                " the namespace counted and the kernel's tracepoints never reported: the facts "
                "could not be judged)";
    }
    return text;
}

}  // namespace tcpscope
