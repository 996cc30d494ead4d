// libFuzzer target: lines on the step pipe and recorded JSON streams. A
// scenario program (or a file) may write anything.
#include <cstdint>
#include <sstream>
#include <string>

#include "recording.h"
#include "step.h"
#include "timeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string input(reinterpret_cast<const char*>(data), size);
    tcpscope::parse_step(input);
    std::istringstream in(input);
    tcpscope::Recording r = tcpscope::read_recording(in);
    tcpscope::Timeline timeline(r.steps, r.events);
    for (const auto& e : timeline.events()) timeline.side_of(e);
    return 0;
}
