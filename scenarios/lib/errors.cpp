#include "errors.h"

#include <cerrno>
#include <cstring>

namespace scen {

void fail_errno(const std::string& what) {
    throw SetupError(what + ": " + std::strerror(errno));
}

void fail(const std::string& what) { throw SetupError(what); }

long long check(long long ret, const std::string& what) {
    if (ret < 0) fail_errno(what);
    return ret;
}

}  // namespace scen
