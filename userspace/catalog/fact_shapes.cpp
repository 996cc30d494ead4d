#include "fact_shapes.h"

namespace tcpscope {

bool is_transition(const Event& e, const std::string& from, const std::string& to) {
    return e.kind == EventKind::State && tcp_state_name(e.old_state) == from && tcp_state_name(e.new_state) == to;
}

FactResult first_one_byte_send_leaves(const FactContext& c) {
    return sent_one_segment(c, c.timeline.find_step("client", kSendOne, 0), "client", 1);
}

std::vector<const Event*> until_next_step(const FactContext& c, const Step& from, const StepMatch& next,
                                          bool through_next) {
    const Step* after = c.timeline.next_step(&from, from.side, next);
    uint64_t end = after == nullptr ? from.ts_ns : through_next ? after->ts_ns : after->start_ns;
    return c.timeline.between(from.start_ns, end);
}

bool kernel_agrees_on_each(const FactContext& c, std::initializer_list<const Step*> steps, EventKind kind,
                           std::vector<std::string>* unseen) {
    for (const Step* s : steps) {
        if (!kernel_agrees(c, *s, kind, unseen)) return false;
    }
    return true;
}

}  // namespace tcpscope
