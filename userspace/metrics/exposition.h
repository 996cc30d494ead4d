// The reply to a scrape: metric families in Prometheus's text format 0.0.4,
// or in OpenMetrics 1.0.0 when the scraper's Accept header prefers it (as
// Prometheus does by default). prometheus-cpp 1.0 writes only the former, so
// the OpenMetrics writer is ours.
#pragma once

#include <string>
#include <vector>

#include <prometheus/metric_family.h>

namespace tcpscope {

enum class ExpositionFormat { kPrometheusText, kOpenMetrics };

constexpr const char* kTextFormatContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

// The format to answer with, from an HTTP Accept header: OpenMetrics when
// it names application/openmetrics-text (version 1.0.0 or none) with a
// quality above 0 and not below text/plain's; the text format otherwise,
// including for no header, */* and anything unparsable.
ExpositionFormat negotiate_format(const std::string& accept);
const char* content_type(ExpositionFormat format);
const char* format_name(ExpositionFormat format);  // "text", "openmetrics"

std::string render(const std::vector<prometheus::MetricFamily>& families, ExpositionFormat format);
std::string render_text_format(const std::vector<prometheus::MetricFamily>& families);
// OpenMetrics text 1.0.0: a counter family is named without `_total` and its
// samples with it, every value a float, label values and HELP escaped, and
// `# EOF` last.
std::string render_open_metrics(const std::vector<prometheus::MetricFamily>& families);

}  // namespace tcpscope
