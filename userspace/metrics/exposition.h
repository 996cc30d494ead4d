// The reply to a scrape: metric families in Prometheus's text format 0.0.4.
#pragma once

#include <string>
#include <vector>

#include <prometheus/metric_family.h>

namespace tcpscope {

constexpr const char* kTextFormatContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render_text_format(const std::vector<prometheus::MetricFamily>& families);

}  // namespace tcpscope
