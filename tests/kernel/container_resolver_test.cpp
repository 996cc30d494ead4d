// The container resolver on a directory tree laid out as the cgroup v2
// tree of a host with docker, podman and a kubelet: a directory's inode is
// what the resolver takes for the cgroup id, as on cgroupfs. No root needed;
// it lives with the kernel tier because the resolver reads the filesystem.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "container_resolver.h"

namespace tcpscope {
namespace {

namespace fs = std::filesystem;

const std::string kDocker = std::string(64, 'd');
const std::string kPodman = "0123" + std::string(60, 'e');
const std::string kPodmanToo = "0123" + std::string(60, 'f');
const std::string kUid = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

uint64_t inode(const fs::path& p) {
    struct stat st;
    EXPECT_EQ(stat(p.c_str(), &st), 0) << p;
    return st.st_ino;
}

class ContainerResolverTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/tcpscope-cgroups-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        fs::create_directories(root_ / "system.slice" / ("docker-" + kDocker + ".scope"));
        fs::create_directories(root_ / "system.slice" / "ssh.service");
        fs::create_directories(root_ / "kubepods" / "burstable" / ("pod" + kUid) / kDocker.substr(0, 60).append("abcd"));
    }
    void TearDown() override { fs::remove_all(root_); }
    fs::path root_;
};

TEST_F(ContainerResolverTest, NamesTheContainerOfEachCgroupId) {
    ContainerResolver r(root_);
    auto docker = r.of_cgroup(inode(root_ / "system.slice" / ("docker-" + kDocker + ".scope")), 1);
    ASSERT_TRUE(docker);
    EXPECT_EQ(docker->runtime, "docker");
    EXPECT_EQ(docker->id, kDocker);
    EXPECT_FALSE(r.of_cgroup(inode(root_ / "system.slice" / "ssh.service"), 2));
    auto pod = r.of_cgroup(inode(root_ / "kubepods" / "burstable" / ("pod" + kUid)), 3);
    ASSERT_TRUE(pod);
    EXPECT_EQ(pod->pod_uid, kUid);
    EXPECT_TRUE(pod->id.empty());
    EXPECT_EQ(r.walks(), 1u);  // one walk answered all of them
    EXPECT_FALSE(r.of_cgroup(0, 4));
}

TEST_F(ContainerResolverTest, AContainerStartedSinceIsFoundOnTheNextWalkAtMostOnceASecond) {
    ContainerResolver r(root_);
    EXPECT_FALSE(r.of_cgroup(inode(root_ / "system.slice" / "ssh.service"), 1000));
    const fs::path later = root_ / "machine.slice" / ("libpod-" + kPodman + ".scope");
    fs::create_directories(later);
    // Within the second: not walked again, not found.
    EXPECT_FALSE(r.of_cgroup(inode(later), 1000 + 500000000ull));
    EXPECT_EQ(r.walks(), 1u);
    auto podman = r.of_cgroup(inode(later), 1000 + 1500000000ull);
    ASSERT_TRUE(podman);
    EXPECT_EQ(podman->runtime, "podman");
    EXPECT_EQ(r.walks(), 2u);
}

// The answer kept for a run of events of one cgroup lasts until the next
// walk: a container removed since is not named from memory.
TEST_F(ContainerResolverTest, TheLastAnswerIsKeptOnlyUntilTheNextWalk) {
    ContainerResolver r(root_);
    const fs::path dir = root_ / "system.slice" / ("docker-" + kDocker + ".scope");
    const uint64_t id = inode(dir);
    auto first = r.of_cgroup(id, 1);
    ASSERT_TRUE(first);
    EXPECT_EQ(r.of_cgroup(id, 2), first);
    fs::remove(dir);
    r.walk();
    EXPECT_FALSE(r.of_cgroup(id, 3));
    EXPECT_EQ(r.walks(), 2u);
}

TEST_F(ContainerResolverTest, ContainerFlagFindsTheOutermostCgroupOfOneContainer) {
    // Rootless podman nests the processes one level further in.
    fs::create_directories(root_ / "user.slice" / ("libpod-" + kPodman + ".scope") / "container");
    std::string dir, error;
    ASSERT_TRUE(container_cgroup_dir(kPodman.substr(0, 12), &dir, &error, root_.string())) << error;
    EXPECT_EQ(dir, (root_ / "user.slice" / ("libpod-" + kPodman + ".scope")).string());
    fs::create_directories(root_ / "machine.slice" / ("libpod-" + kPodmanToo + ".scope"));
    EXPECT_FALSE(container_cgroup_dir("0123", &dir, &error, root_.string()));
    EXPECT_NE(error.find("matches 2 containers"), std::string::npos) << error;
    EXPECT_FALSE(container_cgroup_dir("9999", &dir, &error, root_.string()));
    EXPECT_NE(error.find("no running container's ID starts with '9999'"), std::string::npos) << error;
    EXPECT_FALSE(container_cgroup_dir("web-1", &dir, &error, root_.string()));
    EXPECT_NE(error.find("is not a container ID"), std::string::npos) << error;
}

}  // namespace
}  // namespace tcpscope
