#include "exposition.h"

#include <sstream>

#include <prometheus/text_serializer.h>

namespace tcpscope {

std::string render_text_format(const std::vector<prometheus::MetricFamily>& families) {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    return out.str();
}

}  // namespace tcpscope
