#include "btf_reasons.h"

#include <bpf/btf.h>

#include <cerrno>
#include <cstring>
#include <map>

namespace tcpscope {

namespace {

// An enum's values by name, the prefix taken off; the bound (<prefix>MAX)
// is not a reason and is left out.
ReasonNames enum_names(const struct btf* btf, const char* enum_name, const std::string& prefix) {
    if (btf == nullptr) return {};
    __s32 id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
    if (id < 0) return {};
    const struct btf_type* t = btf__type_by_id(btf, id);
    if (t == nullptr) return {};
    std::map<int, std::string> names;
    const struct btf_enum* values = btf_enum(t);
    for (unsigned i = 0; i < btf_vlen(t); ++i) {
        const char* name = btf__name_by_offset(btf, values[i].name_off);
        if (name == nullptr) continue;
        std::string n = name;
        if (n.rfind(prefix, 0) == 0) n = n.substr(prefix.size());
        if (n == "MAX") continue;
        names.emplace(values[i].val, n);
    }
    return ReasonNames(std::move(names));
}

}  // namespace

ResetReasons reset_reasons_from_btf(const struct btf* btf) {
    return enum_names(btf, "sk_rst_reason", "SK_RST_REASON_");
}

DropReasons drop_reasons_from_btf(const struct btf* btf) {
    return enum_names(btf, "skb_drop_reason", "SKB_DROP_REASON_");
}

const DropReasons& kernel_drop_reasons() {
    static const DropReasons reasons = [] {
        struct btf* btf = btf__load_vmlinux_btf();
        DropReasons r = drop_reasons_from_btf(btf);
        btf__free(btf);
        return r;
    }();
    return reasons;
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
