#include "command_failure.h"

#include <cstdio>

namespace tcpscope {

int fail(const std::string& me, const CommandFailure& failure) {
    say(me, failure.text);
    return failure.exit_code;
}

int fail(const std::string& me, int exit_code, const std::string& text) {
    return fail(me, CommandFailure{exit_code, text});
}

void warn(const std::string& me, const std::string& text) { say(me, "warning: " + text); }

void say(const std::string& me, const std::string& text) {
    std::fprintf(stderr, "%s: %s\n", me.c_str(), text.c_str());
}

}  // namespace tcpscope
