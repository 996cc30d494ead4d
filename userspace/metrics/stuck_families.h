// `tcpscope metrics --stuck SECONDS`: the sockets the stuck detector
// (sockets/stuck_detector.h) holds stuck at scrape time, as gauges by state
// and owner: how many, and the age of the oldest. The same detector and
// the same ages as `trace --stuck`. Pure.
#pragma once

#include <cstdint>
#include <vector>

#include <prometheus/metric_family.h>

#include "stuck_detector.h"

namespace tcpscope {

std::vector<prometheus::MetricFamily> stuck_families(const std::vector<StuckReport>& stuck,
                                                     uint64_t threshold_ns);

}  // namespace tcpscope
