// The filter options that name things on this host (a cgroup directory, a
// namespace file), looked up by the kernel layer (host_filter.h): real
// directories and namespaces, so in this tier and not with the pure unit
// tests.
#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include <cstdint>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "host_filter.h"

namespace tcpscope {
namespace {

// Where cgroup2 is mounted on this machine, from /proc/self/mounts.
std::string cgroup2_mount() {
    std::ifstream mounts("/proc/self/mounts");
    std::string line;
    while (std::getline(mounts, line)) {
        std::istringstream in(line);
        std::string dev, dir, type;
        in >> dev >> dir >> type;
        if (type == "cgroup2") return dir;
    }
    return {};
}

TEST(Cgroup, MissingPathRejected) {
    uint64_t id = 7;
    std::string error;
    EXPECT_FALSE(cgroup_id_of("/sys/fs/cgroup/does-not-exist-tcpscope-test", &id, &error));
    EXPECT_NE(error.find("--cgroup"), std::string::npos) << error;
    EXPECT_EQ(id, 7u);
    FilterOptions o;
    o.cgroup = "/nonexistent/tcpscope";
    ts_filter f{};
    EXPECT_FALSE(build_host_filter(o, &f, &error));
    EXPECT_NE(error.find("--cgroup"), std::string::npos) << error;
}

TEST(Cgroup, NonCgroupDirectoryRejected) {
    uint64_t id = 7;
    std::string error;
    EXPECT_FALSE(cgroup_id_of("/tmp", &id, &error));
    EXPECT_NE(error.find("not a cgroup v2 directory"), std::string::npos) << error;
    EXPECT_EQ(id, 7u);
}

TEST(Cgroup, SysFsCgroupAcceptedWhenCgroup2) {
    struct statfs fs {};
    if (statfs("/sys/fs/cgroup", &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
        GTEST_SKIP() << "/sys/fs/cgroup is not a cgroup2 mount on this machine (hybrid or v1 "
                        "layout); Cgroup.Cgroup2MountAccepted covers the real mount";
    }
    uint64_t id = 0;
    std::string error;
    ASSERT_TRUE(cgroup_id_of("/sys/fs/cgroup", &id, &error)) << error;
    struct stat st {};
    ASSERT_EQ(stat("/sys/fs/cgroup", &st), 0);
    EXPECT_EQ(id, st.st_ino);
}

TEST(Cgroup, Cgroup2MountAccepted) {
    std::string mount = cgroup2_mount();
    if (mount.empty()) GTEST_SKIP() << "no cgroup2 file system is mounted on this machine";
    uint64_t id = 0;
    std::string error;
    ASSERT_TRUE(cgroup_id_of(mount, &id, &error)) << mount << ": " << error;
    struct stat st {};
    ASSERT_EQ(stat(mount.c_str(), &st), 0);
    EXPECT_EQ(id, st.st_ino);
    EXPECT_NE(id, 0u);
    FilterOptions o;
    o.cgroup = mount;
    ts_filter f{};
    ASSERT_TRUE(build_host_filter(o, &f, &error)) << error;
    EXPECT_EQ(f.cgroup_id, st.st_ino);
}

TEST(Cgroup, LevelCountsFromTheMountRoot) {
    std::string mount = cgroup2_mount();
    if (mount.empty()) GTEST_SKIP() << "no cgroup2 file system is mounted on this machine";
    uint32_t level = 99;
    std::string error;
    ASSERT_TRUE(cgroup_level_of(mount, &level, &error)) << error;
    EXPECT_EQ(level, 0u);
    // Any directory below the root is one level deeper per component.
    DIR* d = opendir(mount.c_str());
    ASSERT_NE(d, nullptr);
    std::string child;
    while (struct dirent* e = readdir(d)) {
        if (e->d_type == DT_DIR && e->d_name[0] != '.') {
            child = mount + "/" + e->d_name;
            break;
        }
    }
    closedir(d);
    if (child.empty()) GTEST_SKIP() << "the cgroup2 root has no child cgroup to measure";
    ASSERT_TRUE(cgroup_level_of(child + "/", &level, &error)) << error;
    EXPECT_EQ(level, 1u) << child;
}

TEST(Netns, OwnNamespaceFileGivesInodeAndCookie) {
    if (geteuid() != 0) GTEST_SKIP() << "entering a namespace (setns) needs root";
    NetnsSpec spec;
    std::string error;
    ASSERT_TRUE(parse_netns("/proc/self/ns/net", &spec, &error, host_lookups())) << error;
    struct stat st {};
    ASSERT_EQ(stat("/proc/self/ns/net", &st), 0);
    EXPECT_EQ(spec.inode, st.st_ino);
    EXPECT_EQ(spec.cookie, netns_cookie_of("", &error)) << error;
    EXPECT_NE(spec.cookie, 0u);
}

}  // namespace
}  // namespace tcpscope
