// How long the per-event JSON writer (append_event_json, the hot path of
// `trace --json`) takes per event, over the events of every recorded run
// (scenarios/<name>/recording.jsonl): run by hand before and after touching the writer
// (`build/tests/tcpscope_json_bench [rounds]`), not part of ctest.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <string>
#include <vector>

#include "json_writer.h"
#include "recording.h"

using namespace tcpscope;

int main(int argc, char** argv) {
    int rounds = argc > 1 ? std::atoi(argv[1]) : 2000;
    std::vector<Recording> runs;
    if (DIR* dir = opendir(TCPSCOPE_SCENARIO_SOURCES)) {
        while (dirent* d = readdir(dir)) {
            std::ifstream in(std::string(TCPSCOPE_SCENARIO_SOURCES) + "/" + d->d_name + "/recording.jsonl");
            if (in) runs.push_back(read_recording(in));
        }
        closedir(dir);
    }
    size_t events = 0;
    for (const auto& r : runs) events += r.events.size();
    const WallClock clock{1795902000123456789};
    std::string line;  // reused, as JsonSink does
    size_t bytes = 0;
    // Best of 5 series, each `rounds` passes over every event.
    double best = 1e18;
    for (int series = 0; series < 5; ++series) {
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < rounds; ++i) {
            for (const auto& r : runs) {
                for (const auto& e : r.events) {
                    line.clear();
                    append_event_json(line, e, r.reasons, &clock);
                    bytes += line.size();
                }
            }
        }
        auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
        double per = ns / (static_cast<double>(events) * rounds);
        if (per < best) best = per;
    }
    std::printf("%zu recorded runs, %zu events, %d rounds: %.1f ns/event (best of 5; %zu bytes)\n",
                runs.size(), events, rounds, best, bytes);
    return 0;
}
