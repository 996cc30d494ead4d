// --labels container, the pure parts: cgroup ids into container labels (a
// container's cgroups and the host's merge), the series that merge at
// exposition, their expiry together, and tcpscope_container_info.
#include <gtest/gtest.h>

#include <map>

#include "container_labels.h"
#include "exposition.h"
#include "metric_families.h"
#include "series_expiry.h"

namespace tcpscope {
namespace {

const std::string kWeb = std::string(64, 'a');
const std::string kDb = std::string(64, 'b');

// A retransmits series (state slot 1) of a cgroup, as the kernel keys it.
SeriesCount series(uint64_t cgroup_id, uint64_t value, uint32_t port = 443) {
    SeriesCount sc;
    sc.family = TS_FAM_RETRANSMITS;
    sc.slot = 1;
    sc.port = port;
    sc.cgroup_id = cgroup_id;
    sc.value = value;
    sc.key.family = sc.family;
    sc.key.slot = sc.slot;
    sc.key.port = port;
    sc.key.cgroup_id = cgroup_id;
    return sc;
}

// The tree of a host: cgroups 10 and 11 are the web container's (its
// scope and a sub-cgroup), 20 the database's (a pod's), 30 a host service.
struct FakeTree {
    std::map<uint64_t, std::shared_ptr<const ContainerIdentity>> cgroups;
    int lookups = 0;
    FakeTree() {
        auto web = std::make_shared<const ContainerIdentity>(ContainerIdentity{"docker", kWeb, "", ""});
        auto db = std::make_shared<const ContainerIdentity>(
            ContainerIdentity{"containerd", kDb, "0f6c9a2e-4b1d-4c7a-9e3f-2a5b8c1d7e40", "burstable"});
        cgroups = {{10, web}, {11, web}, {20, db}, {30, nullptr}};
    }
    ContainerLabels::Lookup lookup() {
        return [this](uint64_t id) {
            ++lookups;
            CgroupLookup l;
            auto it = cgroups.find(id);
            l.found = it != cgroups.end();
            if (l.found) l.identity = it->second;
            return l;
        };
    }
};

TEST(ContainerLabels, ContainerIdHostEmptyUnknownQuestionMark) {
    FakeTree tree;
    ContainerLabels labels;
    std::vector<SeriesCount> s = {series(10, 1), series(11, 1), series(20, 1), series(30, 1),
                                  series(0, 1), series(99, 1)};
    labels.label(&s, tree.lookup());
    EXPECT_EQ(s[0].container, kWeb);
    EXPECT_EQ(s[1].container, kWeb) << "a container's sub-cgroup is the container";
    EXPECT_EQ(s[2].container, kDb);
    EXPECT_EQ(s[3].container, "") << "a host cgroup: no container";
    EXPECT_EQ(s[4].container, "?") << "cgroup 0: the owner is not known";
    EXPECT_EQ(s[5].container, "?") << "a cgroup gone before the lookup";
    EXPECT_EQ(labels.containers().size(), 2u);
    EXPECT_EQ(tree.lookups, 5) << "cgroup 0 is not looked up";
}

// A container that exits takes its cgroup with it; its series keep their
// label until they expire, and are looked up once.
TEST(ContainerLabels, ACgroupKeepsItsLabelWhileItHasSeries) {
    FakeTree tree;
    ContainerLabels labels;
    std::vector<SeriesCount> s = {series(10, 1), series(20, 1)};
    labels.label(&s, tree.lookup());
    tree.cgroups.erase(10);
    s = {series(10, 2), series(20, 2)};
    labels.label(&s, tree.lookup());
    EXPECT_EQ(s[0].container, kWeb);
    EXPECT_EQ(tree.lookups, 2);
    // Its series expired: the id is forgotten (and looked up again if seen).
    s = {series(20, 3)};
    labels.label(&s, tree.lookup());
    EXPECT_EQ(labels.cgroups(), 1u);
    EXPECT_EQ(labels.containers().count(kWeb), 0u);
}

TEST(ContainerLabels, SeriesOfOneContainerMergeAtExposition) {
    FakeTree tree;
    ContainerLabels labels;
    KernelCounts c;
    c.label_mask = TS_LABEL_PORT | TS_LABEL_CONTAINER;
    c.series = {series(10, 3), series(11, 4), series(20, 5), series(30, 6), series(31, 7),
                series(10, 1, 80)};
    labels.label(&c.series, tree.lookup());
    std::string text = render_text_format(kernel_families(c, ResetReasons()));
    EXPECT_NE(text.find("tcpscope_retransmits_total{state=\"ESTABLISHED\",port=\"443\",container_id=\"" + kWeb +
                        "\"} 7\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("tcpscope_retransmits_total{state=\"ESTABLISHED\",port=\"80\",container_id=\"" + kWeb +
                        "\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("container_id=\"" + kDb + "\"} 5\n"), std::string::npos);
    EXPECT_NE(text.find("container_id=\"\"} 6\n"), std::string::npos);
    EXPECT_NE(text.find("container_id=\"?\"} 7\n"), std::string::npos);
    size_t lines = 0;
    for (size_t at = text.find("tcpscope_retransmits_total{"); at != std::string::npos;
         at = text.find("tcpscope_retransmits_total{", at + 1)) {
        ++lines;
    }
    EXPECT_EQ(lines, 5u) << "one line per label set";

    std::string info = render_text_format({container_info_family(labels.containers())});
    EXPECT_NE(info.find("tcpscope_container_info{container_id=\"" + kDb +
                        "\",runtime=\"containerd\",pod_uid=\"0f6c9a2e-4b1d-4c7a-9e3f-2a5b8c1d7e40\","
                        "pod_qos=\"burstable\"} 1"),
              std::string::npos)
        << info;
    EXPECT_NE(info.find("tcpscope_container_info{container_id=\"" + kWeb +
                        "\",runtime=\"docker\",pod_uid=\"\",pod_qos=\"\"} 1"),
              std::string::npos);
}

// A container's cgroups expire together: one alone would make its
// container's counter fall.
TEST(ContainerLabels, SeriesOfOneContainerExpireTogether) {
    const uint64_t s = 1000000000ull;
    FakeTree tree;
    ContainerLabels labels;
    SeriesExpiry expiry(10 * s);
    auto reading = [&](uint64_t a, uint64_t b) {
        std::vector<SeriesCount> r = {series(10, a), series(11, b)};
        labels.label(&r, tree.lookup());
        return r;
    };
    EXPECT_TRUE(expiry.idle(reading(1, 1), 100 * s).empty());
    EXPECT_TRUE(expiry.idle(reading(1, 2), 105 * s).empty());
    EXPECT_TRUE(expiry.idle(reading(1, 2), 112 * s).empty())
        << "cgroup 10 unchanged for 12 s, but its container moved at 105 s";
    EXPECT_EQ(expiry.idle(reading(1, 2), 115 * s).size(), 2u);
}

TEST(ContainerLabels, LabelName) {
    uint32_t mask = 0;
    std::string error;
    ASSERT_TRUE(parse_label_names("port,comm,container", &mask, &error));
    EXPECT_EQ(mask, TS_LABEL_PORT | TS_LABEL_COMM | TS_LABEL_CONTAINER);
    EXPECT_FALSE(parse_label_names("containers", &mask, &error));
    EXPECT_NE(error.find("container"), std::string::npos);
}

}  // namespace
}  // namespace tcpscope
