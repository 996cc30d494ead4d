// Shapes of check that the facts of several scenarios share
// (scenarios/<name>/facts.cpp): written once here, so that the scenarios
// that ask the same question ask it the same way. What every fact may use
// is in correlate/facts.h; this is what only the catalogue's facts need.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "facts.h"

namespace tcpscope {

// A state event from `from` to `to` ("ESTABLISHED", "CLOSE").
bool is_transition(const Event& e, const std::string& from, const std::string& to);

// The client's first one-byte send returned 1 and one 1-byte segment left
// the client during it (a peer that is gone accepts the byte all the same).
FactResult first_one_byte_send_leaves(const FactContext& c);

// The events from `from`'s start to the next step of its side that `next`
// matches (to that step's start, or its end with `through_next`), or to
// `from`'s own end when none follows: where what `from` caused lands, such
// as a RST and the error it set, seen by the call that waits for them.
std::vector<const Event*> until_next_step(const FactContext& c, const Step& from, const StepMatch& next,
                                          bool through_next);

// Each step returned what the kernel's own results of kind `kind` say
// (kernel_agrees); stops at the first that does not.
bool kernel_agrees_on_each(const FactContext& c, std::initializer_list<const Step*> steps, EventKind kind,
                           std::vector<std::string>* unseen);

}  // namespace tcpscope
