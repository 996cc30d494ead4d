// libFuzzer target: raw ring buffer records of any size and content, as a
// buggy or newer kernel side could hand them over. Decoding must never read
// past the record, and both JSON encoders must agree and stay valid. The
// same bytes as one string: the fast writer escapes it as nlohmann does.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "event.h"
#include "json_encoding.h"
#include "json_writer.h"
#include "text_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string raw(reinterpret_cast<const char*>(data), size);
    std::string escaped;
    tcpscope::append_json_string(escaped, raw);
    if (escaped != tcpscope::Json(raw).dump(-1, ' ', false, tcpscope::Json::error_handler_t::replace)) {
        abort();
    }
    auto event = tcpscope::decode_event(data, size);
    if (!event) return 0;
    static const tcpscope::ResetReasons reasons({{1, "NO_SOCKET"}});
    std::string fast;
    tcpscope::append_event_json(fast, *event, reasons);
    std::string reference = tcpscope::event_to_json(*event, reasons)
                                .dump(-1, ' ', false, tcpscope::Json::error_handler_t::replace);
    if (fast != reference) abort();
    if (nlohmann::json::parse(fast, nullptr, false).is_discarded()) abort();
    // With "time" too, from an anchor the input chooses.
    int64_t offset = 0;
    for (size_t i = 0; i < size && i < 8; ++i) offset = offset << 8 | data[size - 1 - i];
    const tcpscope::WallClock clock{offset};
    fast.clear();
    tcpscope::append_event_json(fast, *event, reasons, &clock);
    reference = tcpscope::event_to_json(*event, reasons, &clock)
                    .dump(-1, ' ', false, tcpscope::Json::error_handler_t::replace);
    if (fast != reference) abort();
    if (nlohmann::json::parse(fast, nullptr, false).is_discarded()) abort();
    tcpscope::text_line(*event, 0, reasons);
    tcpscope::text_line(*event, 0, reasons, &clock);
    return 0;
}
