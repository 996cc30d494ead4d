#include "container_identity.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace tcpscope {
namespace {

bool all_hex(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isdigit(c) || (c >= 'a' && c <= 'f');
    });
}

bool is_full_id(const std::string& s) { return s.size() == 64 && all_hex(s); }

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> segments(const std::string& path) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= path.size()) {
        size_t slash = path.find('/', start);
        if (slash == std::string::npos) slash = path.size();
        if (slash > start) out.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    return out;
}

// systemd's scope units: "<prefix><id>.scope". The runtimes' monitors
// (conmon) get "<prefix>conmon-<id>.scope": not the container.
struct ScopePrefix {
    const char* prefix;
    const char* runtime;
};
const ScopePrefix kScopes[] = {
    {"docker-", "docker"},
    {"libpod-", "podman"},
    {"cri-containerd-", "containerd"},
    {"crio-", "cri-o"},
};

// A container segment: a runtime's scope unit, or under the cgroupfs
// drivers a bare ID below the runtime's own directory or a pod's.
bool container_segment(const std::vector<std::string>& segs, size_t i, ContainerIdentity* out) {
    const std::string& s = segs[i];
    for (const auto& scope : kScopes) {
        if (!starts_with(s, scope.prefix) || !ends_with(s, ".scope")) continue;
        std::string id = s.substr(std::char_traits<char>::length(scope.prefix));
        id.resize(id.size() - 6);
        if (!is_full_id(id)) continue;
        out->runtime = scope.runtime;
        out->id = id;
        return true;
    }
    // cgroupfs: /docker/<id>, /libpod_parent/libpod-<id>, /kubepods/.../pod<uid>/<id>.
    const std::string parent = i > 0 ? segs[i - 1] : "";
    if (is_full_id(s) && parent == "docker") {
        out->runtime = "docker";
        out->id = s;
        return true;
    }
    if (starts_with(s, "libpod-") && is_full_id(s.substr(7)) && parent == "libpod_parent") {
        out->runtime = "podman";
        out->id = s.substr(7);
        return true;
    }
    if (is_full_id(s) && starts_with(parent, "pod")) {
        out->id = s;  // the kubelet's cgroupfs layout does not name the runtime
        return true;
    }
    return false;
}

// A pod's UID in the systemd driver's names has '_' for '-'.
std::string uid_from_unit(std::string uid) {
    std::replace(uid.begin(), uid.end(), '_', '-');
    return uid;
}

bool looks_like_uid(const std::string& s) {
    return s.size() == 36 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
               return std::isxdigit(c) || c == '-';
           });
}

// Kubernetes' pod segment and its QoS class:
//   systemd driver:  kubepods-burstable-pod<uid_>.slice, kubepods-pod<uid_>.slice (guaranteed)
//   cgroupfs driver: kubepods/burstable/pod<uid>, kubepods/pod<uid> (guaranteed)
bool pod_segment(const std::vector<std::string>& segs, size_t i, ContainerIdentity* out) {
    const std::string& s = segs[i];
    if (starts_with(s, "kubepods") && ends_with(s, ".slice")) {
        const std::string unit = s.substr(0, s.size() - 6);
        for (const char* qos : {"burstable", "besteffort", ""}) {
            const std::string prefix = std::string("kubepods-") + (*qos ? std::string(qos) + "-" : "") + "pod";
            if (!starts_with(unit, prefix)) continue;
            const std::string uid = uid_from_unit(unit.substr(prefix.size()));
            if (!looks_like_uid(uid)) return false;
            out->pod_uid = uid;
            out->qos = *qos ? qos : "guaranteed";
            return true;
        }
        return false;
    }
    if (starts_with(s, "pod") && looks_like_uid(s.substr(3))) {
        // Below "kubepods" directly, or below its QoS directory.
        const std::string parent = i > 0 ? segs[i - 1] : "";
        const std::string grandparent = i > 1 ? segs[i - 2] : "";
        if (parent == "kubepods") {
            out->qos = "guaranteed";
        } else if ((parent == "burstable" || parent == "besteffort") && grandparent == "kubepods") {
            out->qos = parent;
        } else {
            return false;
        }
        out->pod_uid = s.substr(3);
        return true;
    }
    return false;
}

}  // namespace

ContainerIdentity container_of_cgroup_path(const std::string& path) {
    ContainerIdentity found;
    const std::vector<std::string> segs = segments(path);
    // From the leaf up: the innermost container (rootless podman puts its
    // processes in libpod-<id>.scope/container), then the pod around it.
    size_t i = segs.size();
    bool have_container = false;
    while (i > 0) {
        --i;
        if (container_segment(segs, i, &found)) {
            have_container = true;
            break;
        }
    }
    // A pod's own cgroup (its pause process aside, nothing runs there) or
    // any cgroup inside the pod: the pod segment is above the container's.
    size_t j = have_container ? i : segs.size();
    while (j > 0) {
        --j;
        if (pod_segment(segs, j, &found)) break;
    }
    return found;
}

bool is_container_id_prefix(const std::string& text) { return text.size() <= 64 && all_hex(text); }

}  // namespace tcpscope
