#include "container_labels.h"

#include <unordered_set>

namespace tcpscope {

void ContainerLabels::label(std::vector<SeriesCount>* series, const Lookup& lookup) {
    std::unordered_set<uint64_t> present;
    containers_.clear();
    for (SeriesCount& sc : *series) {
        if (sc.cgroup_id == 0) {
            sc.container = kUnknownContainer;
            continue;
        }
        present.insert(sc.cgroup_id);
        auto it = by_cgroup_.find(sc.cgroup_id);
        if (it == by_cgroup_.end()) {
            CgroupLookup found = lookup(sc.cgroup_id);
            Known k;
            k.label = container_label_of(found);
            if (found.found && found.identity && !found.identity->id.empty()) k.identity = found.identity;
            it = by_cgroup_.emplace(sc.cgroup_id, std::move(k)).first;
        }
        sc.container = it->second.label;
        if (it->second.identity) containers_.emplace(it->second.label, it->second.identity);
    }
    for (auto it = by_cgroup_.begin(); it != by_cgroup_.end();) {
        it = present.count(it->first) ? std::next(it) : by_cgroup_.erase(it);
    }
}

std::string container_label_of(const CgroupLookup& found) {
    if (!found.found) return kUnknownContainer;
    return found.identity ? found.identity->id : "";
}

prometheus::MetricFamily container_info_family(
    const std::map<std::string, std::shared_ptr<const ContainerIdentity>>& containers) {
    prometheus::MetricFamily f;
    f.name = "tcpscope_container_info";
    f.help = "The containers the series' container_id label names (--labels container): runtime, "
             "and the Kubernetes pod's UID and QoS class when the container is a pod's";
    f.type = prometheus::MetricType::Gauge;
    for (const auto& [id, c] : containers) {
        prometheus::ClientMetric m;
        m.label = {{"container_id", id}, {"runtime", c->runtime}, {"pod_uid", c->pod_uid}, {"pod_qos", c->qos}};
        m.gauge.value = 1;
        f.metric.push_back(std::move(m));
    }
    return f;
}

}  // namespace tcpscope
