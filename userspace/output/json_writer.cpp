#include "json_writer.h"

#include "event_fields.h"

namespace tcpscope {

void append_event_json(std::string& out, const Event& event, const ResetReasons& reasons,
                       const WallClock* clock) {
    append_record_json(out, event, [](auto& f, const Event& e) { event_fields(f, e); }, reasons, clock);
}

}  // namespace tcpscope
