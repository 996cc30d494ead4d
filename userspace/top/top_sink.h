// `top`'s sink on trace's live loop: each event goes to the connection
// stories (the very StoryBuilder of `trace --connections`) and to the top
// model; complete stories go to the model at tick(). Losses are counted
// by reason for the header.
#pragma once

#include <array>
#include <cstdint>

#include "sinks.h"
#include "story_builder.h"
#include "top_model.h"

namespace tcpscope {

class TopSink : public EventSink {
public:
    TopSink(TopModel& model, const ResetReasons& reasons, StoryOptions options)
        : model_(model), builder_(reasons, options) {}

    void event(const Event& event) override {
        builder_.add(event);
        model_.on_event(event);
    }
    void lost(uint64_t, uint64_t count, uint64_t, LossReason reason) override {
        lost_[static_cast<size_t>(reason)] += count;
    }
    void summary(const TraceSummary&) override {}

    // Hands the stories complete by now_ns to the model.
    void tick(uint64_t now_ns) {
        for (const auto& story : builder_.take_complete(now_ns)) model_.on_story(story);
    }

    const StoryBuilder& builder() const { return builder_; }
    // Since start, by loss reason name.
    std::map<std::string, uint64_t> lost_by_reason() const {
        std::map<std::string, uint64_t> out;
        for (size_t r = 0; r < kLossReasons; ++r) out[loss_reason_name(static_cast<LossReason>(r))] = lost_[r];
        return out;
    }

private:
    TopModel& model_;
    StoryBuilder builder_;
    std::array<uint64_t, kLossReasons> lost_{};
};

}  // namespace tcpscope
