// The scrape's format: Accept-header negotiation and the OpenMetrics 1.0.0
// writer (prometheus-cpp 1.0 writes only the 0.0.4 text format). A real
// Prometheus parses both in tests/metrics/prometheus_test.py; these pin the
// rules it relies on.
#include <gtest/gtest.h>

#include <limits>

#include "exposition.h"
#include "metric_families.h"

namespace tcpscope {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

TEST(Negotiation, PrometheusDefaultAcceptGetsOpenMetrics) {
    // What Prometheus 2.42 sends by default.
    EXPECT_EQ(negotiate_format("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                               "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
              ExpositionFormat::kOpenMetrics);
    EXPECT_EQ(negotiate_format("application/openmetrics-text"), ExpositionFormat::kOpenMetrics);
    EXPECT_EQ(negotiate_format(" Application/OpenMetrics-Text ; Version=1.0.0 ; q=0.9 , text/plain;q=0.5"),
              ExpositionFormat::kOpenMetrics);
}

TEST(Negotiation, EverythingElseGetsTheTextFormat) {
    for (const char* accept : {"", "*/*", "text/plain", "text/plain;version=0.0.4",
                               "application/openmetrics-text;version=0.0.1",
                               "application/openmetrics-text;q=0", "application/openmetrics-text;q=junk",
                               "text/plain;q=0.9,application/openmetrics-text;q=0.5", ",,;;=",
                               "application/json"}) {
        EXPECT_EQ(negotiate_format(accept), ExpositionFormat::kPrometheusText) << accept;
    }
    EXPECT_STREQ(content_type(ExpositionFormat::kPrometheusText), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_STREQ(content_type(ExpositionFormat::kOpenMetrics),
                 "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

MetricFamily counter_family() {
    MetricFamily f{"tcpscope_resets_sent_total", "RSTs sent\nby \"reason\" \\", MetricType::Counter, {}};
    ClientMetric m;
    m.label = {{"reason", "TCP_TIMEWAIT_SOCKET"}, {"state", "a\"b\\c\nd"}};
    m.counter.value = 3;
    f.metric.push_back(m);
    return f;
}

TEST(OpenMetrics, CounterFamilyDropsTotalAndSamplesKeepIt) {
    std::string text = render_open_metrics({counter_family()});
    EXPECT_EQ(text,
              "# TYPE tcpscope_resets_sent counter\n"
              "# HELP tcpscope_resets_sent RSTs sent\\nby \\\"reason\\\" \\\\\n"
              "tcpscope_resets_sent_total{reason=\"TCP_TIMEWAIT_SOCKET\",state=\"a\\\"b\\\\c\\nd\"} 3.0\n"
              "# EOF\n");
}

TEST(OpenMetrics, HistogramHasInfBucketCountAndSum) {
    MetricFamily f{"tcpscope_connect_duration_seconds", "connect", MetricType::Histogram, {}};
    ClientMetric m;
    m.histogram.bucket = {{1, 8.192e-06}, {4, 0.5}};
    m.histogram.sample_count = 5;
    m.histogram.sample_sum = 1.25;
    f.metric.push_back(m);
    std::string text = render_open_metrics({f});
    EXPECT_EQ(text,
              "# TYPE tcpscope_connect_duration_seconds histogram\n"
              "# HELP tcpscope_connect_duration_seconds connect\n"
              "tcpscope_connect_duration_seconds_bucket{le=\"8.192e-06\"} 1.0\n"
              "tcpscope_connect_duration_seconds_bucket{le=\"0.5\"} 4.0\n"
              "tcpscope_connect_duration_seconds_bucket{le=\"+Inf\"} 5.0\n"
              "tcpscope_connect_duration_seconds_count 5.0\n"
              "tcpscope_connect_duration_seconds_sum 1.25\n"
              "# EOF\n");
    // A histogram that already ends at +Inf gets no second one.
    f.metric[0].histogram.bucket.push_back({5, std::numeric_limits<double>::infinity()});
    text = render_open_metrics({f});
    EXPECT_EQ(text.find("+Inf"), text.rfind("+Inf"));
}

TEST(OpenMetrics, BuildInfoIsAnInfoMetric) {
    SelfInfo self;
    self.version = "0.1.0";
    self.kernel = "6.18.0";
    self.text_scrapes = 2;
    self.open_metrics_scrapes = 5;
    std::string text = render_open_metrics(self_families(self));
    EXPECT_NE(text.find("# TYPE tcpscope_build info\n"), std::string::npos) << text;
    EXPECT_NE(text.find("tcpscope_build_info{version=\"0.1.0\",kernel=\"6.18.0\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("tcpscope_scrapes_total{format=\"openmetrics\"} 5.0\n"), std::string::npos);
    EXPECT_NE(text.find("tcpscope_scrapes_total{format=\"text\"} 2.0\n"), std::string::npos);
    // The text format keeps the gauge, as before.
    std::string plain = render_text_format(self_families(self));
    EXPECT_NE(plain.find("# TYPE tcpscope_build_info gauge"), std::string::npos);
    EXPECT_EQ(plain.find("# EOF"), std::string::npos);
}

TEST(OpenMetrics, NumbersAndEmptyFamilies) {
    MetricFamily g{"tcpscope_scrape_duration_seconds", "", MetricType::Gauge, {}};
    for (double v : {0.1, 1e-9, -2.0, std::numeric_limits<double>::quiet_NaN(),
                     -std::numeric_limits<double>::infinity()}) {
        ClientMetric m;
        m.gauge.value = v;
        g.metric.push_back(m);
    }
    MetricFamily empty{"tcpscope_series_dropped_total", "dropped", MetricType::Counter, {}};
    std::string text = render_open_metrics({g, empty});
    EXPECT_EQ(text,
              "# TYPE tcpscope_scrape_duration_seconds gauge\n"
              "tcpscope_scrape_duration_seconds 0.1\n"
              "tcpscope_scrape_duration_seconds 1e-09\n"
              "tcpscope_scrape_duration_seconds -2.0\n"
              "tcpscope_scrape_duration_seconds NaN\n"
              "tcpscope_scrape_duration_seconds -Inf\n"
              "# TYPE tcpscope_series_dropped counter\n"
              "# HELP tcpscope_series_dropped dropped\n"
              "# EOF\n");
    EXPECT_EQ(render_open_metrics({}), "# EOF\n");
}

}  // namespace
}  // namespace tcpscope
