#include "btf_reasons.h"

#include <bpf/btf.h>

#include <cerrno>
#include <cstring>
#include <map>

namespace tcpscope {

namespace {
constexpr const char kEnumName[] = "sk_rst_reason";
constexpr const char kPrefix[] = "SK_RST_REASON_";
}  // namespace

ResetReasons reset_reasons_from_btf(const struct btf* btf) {
    if (btf == nullptr) return {};
    __s32 id = btf__find_by_name_kind(btf, kEnumName, BTF_KIND_ENUM);
    if (id < 0) return {};
    const struct btf_type* t = btf__type_by_id(btf, id);
    if (t == nullptr) return {};
    std::map<int, std::string> names;
    const struct btf_enum* values = btf_enum(t);
    for (unsigned i = 0; i < btf_vlen(t); ++i) {
        const char* name = btf__name_by_offset(btf, values[i].name_off);
        if (name == nullptr) continue;
        std::string n = name;
        if (n.rfind(kPrefix, 0) == 0) n = n.substr(sizeof(kPrefix) - 1);
        // SK_RST_REASON_MAX is a bound, not a reason.
        if (n == "MAX") continue;
        names.emplace(values[i].val, n);
    }
    return ResetReasons(std::move(names));
}

ResetReasons load_kernel_reset_reasons(std::string* error) {
    struct btf* btf = btf__load_vmlinux_btf();
    if (btf == nullptr) {
        if (error) *error = std::string("cannot read kernel BTF: ") + std::strerror(errno);
        return {};
    }
    ResetReasons reasons = reset_reasons_from_btf(btf);
    btf__free(btf);
    return reasons;
}

}  // namespace tcpscope
