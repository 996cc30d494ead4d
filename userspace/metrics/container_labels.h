// --labels container: the `container_id` label of each series. The kernel keys
// a series by its owner's cgroup v2 id; this turns the id into the
// container's ID (containers/container_identity.h), so that the cgroups of
// one container (a rootless podman's inner cgroup, sub-cgroups a
// container makes) expose one series, and the host's processes, whatever
// their cgroup, expose container_id="". Pure: the cgroup tree is read by the
// lookup it is given (kernel/container_resolver.h in tcpscope metrics).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <prometheus/metric_family.h>

#include "container_identity.h"
#include "kernel_counts.h"

namespace tcpscope {

// What the cgroup tree says of a cgroup id.
struct CgroupLookup {
    bool found = false;  // the id is a cgroup of the tree (else: gone before it was looked up)
    std::shared_ptr<const ContainerIdentity> identity;  // null: in no container
};

// The label value of an owner that is not known: cgroup id 0 (an event in
// softirq on a socket whose owner tcpscope never learned), or a cgroup
// removed before a scrape looked it up.
inline constexpr const char* kUnknownContainer = "?";

// The container_id label value a lookup gives: the container's ID, "" for
// a cgroup in no container (the host's), "?" for one the tree no longer has.
std::string container_label_of(const CgroupLookup& found);

class ContainerLabels {
public:
    using Lookup = std::function<CgroupLookup(uint64_t cgroup_id)>;

    // Sets each series' `container_id`. A cgroup id keeps the value of its
    // first lookup for as long as series of it exist: a container that
    // exits leaves its cgroup, and its series must not move to another
    // label while they wait for --series-idle. Ids no longer in any series
    // are forgotten.
    void label(std::vector<SeriesCount>* series, const Lookup& lookup);

    // The containers the last call labelled series with, by ID.
    const std::map<std::string, std::shared_ptr<const ContainerIdentity>>& containers() const {
        return containers_;
    }
    size_t cgroups() const { return by_cgroup_.size(); }

private:
    struct Known {
        std::string label;
        std::shared_ptr<const ContainerIdentity> identity;
    };
    std::unordered_map<uint64_t, Known> by_cgroup_;
    std::map<std::string, std::shared_ptr<const ContainerIdentity>> containers_;
};

// tcpscope_container_info{container_id, runtime, pod_uid, pod_qos} 1, one per
// container with series: what the series' `container_id` label is joined on
// (`* on (container_id) group_left (pod_uid) tcpscope_container_info`), so
// that the pod costs one series per container, not a label on every one.
prometheus::MetricFamily container_info_family(
    const std::map<std::string, std::shared_ptr<const ContainerIdentity>>& containers);

}  // namespace tcpscope
