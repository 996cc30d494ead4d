// Setup failures. A scenario distinguishes two kinds of failing call: the ones
// under study (reported as steps, never thrown) and the ones that merely build
// the stage (socket(), bind() of a listener, fork(), ip ...). The second kind
// throws SetupError; run_scenario() turns it into a non-zero exit so the runner
// knows the scenario did not run, rather than judging facts on a broken stage.
#pragma once

#include <stdexcept>
#include <string>

namespace scen {

struct SetupError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws SetupError("<what>: <strerror(errno)>").
[[noreturn]] void fail_errno(const std::string& what);

// Throws SetupError(what).
[[noreturn]] void fail(const std::string& what);

// For "-1 means failure" calls: returns ret, or throws with errno's text.
long long check(long long ret, const std::string& what);

}  // namespace scen
