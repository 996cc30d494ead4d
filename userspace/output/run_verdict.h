// The verdict of one scenario run, as every view writes it (the text
// ladder's last line, the `run --all` table, the JSON summary, the HTML
// page and index): one function decides it, so they cannot disagree.
//
// A run whose kernel side lost events cannot be judged: a fact that failed
// may have failed for want of the lost event, and one that held may hold
// only because a contradicting event was lost. So it is neither pass nor
// FAIL but "not judged", with the number lost. A program that did not run
// to the end (error, timeout, killed, non-zero exit) fails whatever was
// lost: that does not depend on the tracing.
#pragma once

#include <cstdint>
#include <string>

namespace tcpscope {

enum class RunVerdict { Pass, Fail, NotJudged };

// ran_ok: the program ran to the end and exited 0; facts_hold: no fact
// failed; lost: events the kernel side could not deliver; untraced: events
// the kernel counted and its tracepoints never reported (facts.h), which
// also leave the run not judged unless a fact failed outright.
RunVerdict run_verdict(bool ran_ok, bool facts_hold, uint64_t lost, uint64_t untraced = 0);

// "pass", "FAIL", "NOT JUDGED" (the text views).
const char* run_verdict_word(RunVerdict verdict);
// "pass", "fail", "not_judged" (the JSON summary's "verdict").
const char* run_verdict_key(RunVerdict verdict);
// The word, and for a run not judged why: "NOT JUDGED (12 events lost: the
// facts could not be judged)".
std::string run_verdict_text(RunVerdict verdict, uint64_t lost, uint64_t untraced = 0);

}  // namespace tcpscope
