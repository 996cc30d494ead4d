// Exit codes, documented in README.md.
#pragma once

namespace tcpscope {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;      // a fact did not hold, or output failed
constexpr int kExitUsage = 2;        // bad command line
constexpr int kExitEnvironment = 3;  // privileges, BTF, kernel support

// `tcpscope exec` returns its command's status, so its own failures take
// the codes timeout(1) and env(1) use, which commands rarely do.
constexpr int kExecFailure = 125;      // exec itself failed: command line, privileges, kernel
constexpr int kExecCannotRun = 126;    // the command was found but could not be run
constexpr int kExecNotFound = 127;     // the command was not found

}  // namespace tcpscope
