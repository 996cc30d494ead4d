// Exit codes, documented in README.md.
#pragma once

namespace tcpscope {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;      // a fact did not hold, or output failed
constexpr int kExitUsage = 2;        // bad command line
constexpr int kExitEnvironment = 3;  // privileges, BTF, kernel support

}  // namespace tcpscope
