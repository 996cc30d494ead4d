// Container and pod identities from cgroup v2 paths, as each runtime, systemd
// and the kubelet lay their cgroups out (docs/containers.md).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "container_identity.h"

namespace tcpscope {
namespace {

const std::string kId = "3f1c2a9be0d84c7f9a6b5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";
const std::string kUid = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const std::string kUidUnit = "7c9e6679_7425_40de_944b_e07fc1f90ae7";

TEST(ContainerIdentity, DockerUnderSystemd) {
    auto c = container_of_cgroup_path("/system.slice/docker-" + kId + ".scope");
    EXPECT_EQ(c.runtime, "docker");
    EXPECT_EQ(c.id, kId);
    EXPECT_EQ(c.short_id(), kId.substr(0, 12));
    EXPECT_TRUE(c.pod_uid.empty());
}

TEST(ContainerIdentity, DockerWithTheCgroupfsDriver) {
    auto c = container_of_cgroup_path("/docker/" + kId);
    EXPECT_EQ(c.runtime, "docker");
    EXPECT_EQ(c.id, kId);
}

TEST(ContainerIdentity, PodmanRootfulAndRootless) {
    auto c = container_of_cgroup_path("/machine.slice/libpod-" + kId + ".scope");
    EXPECT_EQ(c.runtime, "podman");
    EXPECT_EQ(c.id, kId);
    // Rootless podman puts the processes one level further in.
    c = container_of_cgroup_path("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId +
                                 ".scope/container");
    EXPECT_EQ(c.runtime, "podman");
    EXPECT_EQ(c.id, kId);
    c = container_of_cgroup_path("/libpod_parent/libpod-" + kId);
    EXPECT_EQ(c.id, kId);
}

TEST(ContainerIdentity, TheRuntimesMonitorIsNotTheContainer) {
    EXPECT_TRUE(container_of_cgroup_path("/machine.slice/libpod-conmon-" + kId + ".scope").empty());
    EXPECT_TRUE(container_of_cgroup_path("/system.slice/crio-conmon-" + kId + ".scope").empty());
}

TEST(ContainerIdentity, KubernetesWithTheSystemdDriver) {
    auto c = container_of_cgroup_path("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
                                      kUidUnit + ".slice/cri-containerd-" + kId + ".scope");
    EXPECT_EQ(c.runtime, "containerd");
    EXPECT_EQ(c.id, kId);
    EXPECT_EQ(c.pod_uid, kUid);
    EXPECT_EQ(c.qos, "burstable");
    c = container_of_cgroup_path("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" +
                                 kUidUnit + ".slice/crio-" + kId + ".scope");
    EXPECT_EQ(c.runtime, "cri-o");
    EXPECT_EQ(c.qos, "besteffort");
    // Guaranteed pods sit right under kubepods.slice.
    c = container_of_cgroup_path("/kubepods.slice/kubepods-pod" + kUidUnit + ".slice/cri-containerd-" + kId +
                                 ".scope");
    EXPECT_EQ(c.pod_uid, kUid);
    EXPECT_EQ(c.qos, "guaranteed");
}

TEST(ContainerIdentity, KubernetesWithTheCgroupfsDriver) {
    auto c = container_of_cgroup_path("/kubepods/burstable/pod" + kUid + "/" + kId);
    EXPECT_EQ(c.id, kId);
    EXPECT_EQ(c.runtime, "");  // the layout does not name it
    EXPECT_EQ(c.pod_uid, kUid);
    EXPECT_EQ(c.qos, "burstable");
    c = container_of_cgroup_path("/kubepods/pod" + kUid + "/" + kId);
    EXPECT_EQ(c.qos, "guaranteed");
}

TEST(ContainerIdentity, APodsOwnCgroupHasThePodAndNoContainer) {
    auto c = container_of_cgroup_path("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
                                      kUidUnit + ".slice");
    EXPECT_TRUE(c.id.empty());
    EXPECT_EQ(c.pod_uid, kUid);
    EXPECT_FALSE(c.empty());
}

TEST(ContainerIdentity, NestedUnderAnyParent) {
    // A node whose kubelet runs inside a slice of its own, or a test's own
    // cgroup: the layout is found wherever it starts.
    auto c = container_of_cgroup_path("/tcpscope-test-42/kubepods.slice/kubepods-pod" + kUidUnit +
                                      ".slice/cri-containerd-" + kId + ".scope");
    EXPECT_EQ(c.id, kId);
    EXPECT_EQ(c.pod_uid, kUid);
}

TEST(ContainerIdentity, OtherCgroupsAreNoContainer) {
    for (const std::string& path : std::vector<std::string>{"/", "/system.slice/ssh.service", "/user.slice/user-1000.slice/session-3.scope",
          "/system.slice/docker.service", "/docker", "/machine.slice/libpod-1234.scope",
          "/system.slice/docker-" + kId.substr(1) + ".scope",
          "/system.slice/docker-" + kId.substr(0, 63) + "G.scope", "/kubepods.slice/kubepods-burstable.slice",
          "/kubepods/burstable/podnot-a-uid/" + kId.substr(0, 12), "/pod" + kUid + "/" + kId + "x"}) {
        EXPECT_TRUE(container_of_cgroup_path(path).empty()) << path;
    }
}

TEST(ContainerIdentity, IdPrefixes) {
    EXPECT_TRUE(is_container_id_prefix("3f1c2a9be0d8"));
    EXPECT_TRUE(is_container_id_prefix(kId));
    EXPECT_FALSE(is_container_id_prefix(""));
    EXPECT_FALSE(is_container_id_prefix(kId + "0"));
    EXPECT_FALSE(is_container_id_prefix("3F1C"));  // the runtimes print lower case
    EXPECT_FALSE(is_container_id_prefix("web-1"));  // names are not IDs
}

}  // namespace
}  // namespace tcpscope
