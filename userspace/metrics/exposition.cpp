#include "exposition.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <prometheus/text_serializer.h>

namespace tcpscope {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(" \t");
    return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// One media range of an Accept header: its type and the parameters we use.
struct MediaRange {
    std::string type;
    std::string version;
    double quality = 1.0;
};

MediaRange parse_range(const std::string& text) {
    MediaRange r;
    std::stringstream parts(text);
    std::string part;
    bool first = true;
    while (std::getline(parts, part, ';')) {
        part = trim(part);
        if (first) {
            r.type = lower(part);
            first = false;
            continue;
        }
        size_t eq = part.find('=');
        if (eq == std::string::npos) continue;
        std::string key = lower(trim(part.substr(0, eq)));
        std::string value = trim(part.substr(eq + 1));
        if (key == "version") {
            r.version = value;
        } else if (key == "q") {
            char* end = nullptr;
            double q = std::strtod(value.c_str(), &end);
            r.quality = (end && *end == '\0' && q >= 0 && q <= 1) ? q : 0;
        }
    }
    return r;
}

// Floats as OpenMetrics writes them: integers with no exponent up to 2^53,
// otherwise the shortest text that reads back the same; +Inf, -Inf, NaN.
std::string om_number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
        std::snprintf(buf, sizeof(buf), "%.1f", v);
        return buf;
    }
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    return buf;
}

// Label values and HELP text: backslash, double quote and newline escaped.
std::string om_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string om_labels(const std::vector<ClientMetric::Label>& labels, const std::string* le = nullptr) {
    if (labels.empty() && !le) return "";
    std::string out = "{";
    bool first = true;
    for (const auto& l : labels) {
        if (!first) out += ",";
        out += l.name + "=\"" + om_escape(l.value) + "\"";
        first = false;
    }
    if (le) {
        if (!first) out += ",";
        out += "le=\"" + *le + "\"";
    }
    return out + "}";
}

const char* om_type(MetricType t) {
    switch (t) {
        case MetricType::Counter: return "counter";
        case MetricType::Gauge: return "gauge";
        case MetricType::Summary: return "summary";
        case MetricType::Histogram: return "histogram";
        case MetricType::Untyped: break;
    }
    return "unknown";
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_info(const MetricFamily& f) {
    if (f.type != MetricType::Gauge || !ends_with(f.name, "_info")) return false;
    for (const auto& m : f.metric) {
        if (m.gauge.value != 1) return false;
    }
    return true;
}

void write_family(std::ostringstream& out, const MetricFamily& f) {
    const std::string suffix = "_total";
    const std::string info_suffix = "_info";
    std::string name = f.name;
    const bool counter = f.type == MetricType::Counter;
    // A counter's family name is its samples' name without `_total`.
    if (counter && ends_with(name, suffix)) name.resize(name.size() - suffix.size());
    // A gauge of constant 1 named *_info (tcpscope_build_info) is what
    // OpenMetrics calls an info metric: family `tcpscope_build`, type info.
    if (is_info(f)) {
        name.resize(name.size() - info_suffix.size());
        out << "# TYPE " << name << " info\n";
        if (!f.help.empty()) out << "# HELP " << name << ' ' << om_escape(f.help) << '\n';
        for (const auto& m : f.metric) out << name << info_suffix << om_labels(m.label) << " 1\n";
        return;
    }
    out << "# TYPE " << name << ' ' << om_type(f.type) << '\n';
    if (!f.help.empty()) out << "# HELP " << name << ' ' << om_escape(f.help) << '\n';
    for (const auto& m : f.metric) {
        switch (f.type) {
            case MetricType::Counter:
                out << name << suffix << om_labels(m.label) << ' ' << om_number(m.counter.value) << '\n';
                break;
            case MetricType::Gauge:
                out << name << om_labels(m.label) << ' ' << om_number(m.gauge.value) << '\n';
                break;
            case MetricType::Untyped:
                out << name << om_labels(m.label) << ' ' << om_number(m.untyped.value) << '\n';
                break;
            case MetricType::Histogram: {
                bool has_inf = false;
                for (const auto& b : m.histogram.bucket) {
                    std::string le = om_number(b.upper_bound);
                    has_inf = has_inf || std::isinf(b.upper_bound);
                    out << name << "_bucket" << om_labels(m.label, &le) << ' '
                        << om_number(static_cast<double>(b.cumulative_count)) << '\n';
                }
                if (!has_inf) {
                    const std::string inf = "+Inf";
                    out << name << "_bucket" << om_labels(m.label, &inf) << ' '
                        << om_number(static_cast<double>(m.histogram.sample_count)) << '\n';
                }
                out << name << "_count" << om_labels(m.label) << ' '
                    << om_number(static_cast<double>(m.histogram.sample_count)) << '\n';
                out << name << "_sum" << om_labels(m.label) << ' ' << om_number(m.histogram.sample_sum)
                    << '\n';
                break;
            }
            case MetricType::Summary: {
                for (const auto& q : m.summary.quantile) {
                    auto labels = m.label;
                    labels.push_back({"quantile", om_number(q.quantile)});
                    out << name << om_labels(labels) << ' ' << om_number(q.value) << '\n';
                }
                out << name << "_count" << om_labels(m.label) << ' '
                    << om_number(static_cast<double>(m.summary.sample_count)) << '\n';
                out << name << "_sum" << om_labels(m.label) << ' ' << om_number(m.summary.sample_sum)
                    << '\n';
                break;
            }
        }
    }
}

}  // namespace

ExpositionFormat negotiate_format(const std::string& accept) {
    double open_metrics = -1;
    double text = -1;
    std::stringstream ranges(accept);
    std::string range;
    while (std::getline(ranges, range, ',')) {
        MediaRange r = parse_range(range);
        if (r.type == "application/openmetrics-text") {
            // 1.0.0 is what we write; 0.0.1 was a draft with other rules.
            if (r.version.empty() || r.version == "1.0.0") open_metrics = std::max(open_metrics, r.quality);
        } else if (r.type == "text/plain") {
            text = std::max(text, r.quality);
        }
    }
    return open_metrics > 0 && open_metrics >= text ? ExpositionFormat::kOpenMetrics
                                                    : ExpositionFormat::kPrometheusText;
}

const char* content_type(ExpositionFormat format) {
    return format == ExpositionFormat::kOpenMetrics ? kOpenMetricsContentType : kTextFormatContentType;
}

const char* format_name(ExpositionFormat format) {
    return format == ExpositionFormat::kOpenMetrics ? "openmetrics" : "text";
}

std::string render(const std::vector<MetricFamily>& families, ExpositionFormat format) {
    return format == ExpositionFormat::kOpenMetrics ? render_open_metrics(families)
                                                    : render_text_format(families);
}

std::string render_text_format(const std::vector<MetricFamily>& families) {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    return out.str();
}

std::string render_open_metrics(const std::vector<MetricFamily>& families) {
    std::ostringstream out;
    for (const auto& f : families) write_family(out, f);
    out << "# EOF\n";
    return out.str();
}

}  // namespace tcpscope
