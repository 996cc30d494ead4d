#include "readiness.h"

#include <cstdio>
#include <iterator>

namespace tcpscope {

namespace {

struct BitName {
    uint32_t bit;
    const char* name;
};

const BitName kBits[] = {
    {kReadyIn, "IN"},         {kReadyPri, "PRI"},       {kReadyOut, "OUT"},
    {kReadyErr, "ERR"},       {kReadyHup, "HUP"},       {kReadyNval, "NVAL"},
    {kReadyRdnorm, "RDNORM"}, {kReadyRdband, "RDBAND"}, {kReadyWrnorm, "WRNORM"},
    {kReadyWrband, "WRBAND"}, {kReadyMsg, "MSG"},       {kReadyRdhup, "RDHUP"},
    {kReadyExclusive, "EXCLUSIVE"}, {kReadyWakeup, "WAKEUP"}, {kReadyOneshot, "ONESHOT"},
    {kReadyEdgeTriggered, "ET"},
};

}  // namespace

std::string readiness_names(uint32_t mask) {
    std::string out;
    uint32_t left = mask;
    for (const auto& b : kBits) {
        if (!(mask & b.bit)) continue;
        out += (out.empty() ? "" : "|") + std::string(b.name);
        left &= ~b.bit;
    }
    if (left != 0) {
        char hex[16];
        std::snprintf(hex, sizeof(hex), "0x%x", left);
        out += (out.empty() ? "" : "|") + std::string(hex);
    }
    return out.empty() ? "0" : out;
}

std::optional<uint32_t> readiness_from_names(const std::string& names) {
    if (names == "0") return 0u;
    uint32_t mask = 0;
    size_t i = 0;
    while (i <= names.size()) {
        size_t bar = names.find('|', i);
        std::string part = names.substr(i, bar == std::string::npos ? std::string::npos : bar - i);
        bool known = false;
        for (const auto& b : kBits) {
            if (part == b.name) {
                mask |= b.bit;
                known = true;
            }
        }
        if (!known) return std::nullopt;
        if (bar == std::string::npos) break;
        i = bar + 1;
    }
    return mask;
}

}  // namespace tcpscope
