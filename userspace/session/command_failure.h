// The one place a command's failure and its warnings are said: on stderr,
// after the command's prefix ("tcpscope trace: "), each on a line.
#pragma once

#include <string>

#include "load_failure.h"

namespace tcpscope {

// Says the failure; returns its exit code, for `return fail(...)`.
int fail(const std::string& me, const CommandFailure& failure);
// The same, made on the spot.
int fail(const std::string& me, int exit_code, const std::string& text);

// "<me>: warning: <text>".
void warn(const std::string& me, const std::string& text);
// "<me>: <text>": news that is neither a failure nor a warning
// ("page written: ...").
void say(const std::string& me, const std::string& text);

}  // namespace tcpscope
