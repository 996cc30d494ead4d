// The container a cgroup v2 path belongs to, read from the names container
// runtimes, systemd and the kubelet give their cgroups. Pure: the path is
// all it looks at (docs/containers.md lists the layouts).
#pragma once

#include <string>

namespace tcpscope {

struct ContainerIdentity {
    std::string runtime;  // "docker", "podman", "containerd", "cri-o"; "" when the path does not say
    std::string id;       // the container ID, 64 hex digits; "" for no container
    std::string pod_uid;  // Kubernetes: the pod's UID (dashes, as the API shows it)
    std::string qos;      // Kubernetes: "guaranteed", "burstable" or "besteffort"

    bool empty() const { return id.empty() && pod_uid.empty(); }
    // The first 12 digits, as `docker ps` and `podman ps` show an ID.
    std::string short_id() const { return id.substr(0, 12); }
};

// The innermost container on the path ("/kubepods.slice/.../cri-containerd-
// <id>.scope"), and the pod around it. Unknown layouts give an empty identity.
ContainerIdentity container_of_cgroup_path(const std::string& path);

// Whether text is what --container accepts: 1 to 64 hex digits, a prefix of
// an ID, as the runtimes' own commands accept one.
bool is_container_id_prefix(const std::string& text);

}  // namespace tcpscope
