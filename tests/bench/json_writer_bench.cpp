// How long the two userspace stages of `trace --json` take per event: the
// JSON writer (append_event_json) over the events of every recorded run
// (scenarios/<name>/recording.jsonl), and decoding a kernel record into an
// Event (EventDecoder) over records of the shapes serial churn makes. Run by
// hand before and after touching either (`build/tcpscope_json_bench
// [rounds]`), not part of ctest.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <string>
#include <vector>

#include <cstring>

#include "event.h"
#include "json_writer.h"
#include "recording.h"

using namespace tcpscope;

namespace {

// A kernel record as `trace` reads them on loopback churn: IPv4, a state
// change attributed in softirq to the socket's owner, whose name differs
// from the running task's.
ts_event churn_record(uint32_t n) {
    ts_event r;
    std::memset(&r, 0, sizeof(r));
    r.kind = TS_KIND_STATE;
    r.ts_ns = 1000000000ull + n;
    r.cookie = 4096 + n;
    r.pid = r.tid = 4242;
    r.cur_pid = 4243;
    r.netns = 4026532174u;
    r.netns_cookie = 26044;
    std::memcpy(r.comm, "tcpscope_churn", 15);
    std::memcpy(r.cur_comm, "nginx", 6);
    std::memcpy(r.cur_thread, "nginx", 6);
    r.flags = TS_F_OWNER | TS_F_IRQ | TS_F_PREV_TIME;
    r.family = 2;  // AF_INET
    const uint8_t lo[4] = {127, 0, 0, 1};
    std::memcpy(r.saddr, lo, 4);
    std::memcpy(r.daddr, lo, 4);
    r.sport = static_cast<uint16_t>(40000 + n % 20000);
    r.dport = 8080;
    r.state.old_state = 1;
    r.state.new_state = 4;
    r.prev_state_ns = 12345;
    return r;
}

// EventDecoder (the trace loop's decoder) over 64 records again and again,
// about `rounds` * 1000 decodes a series: best of 5, ns per record. With
// `varied`, each record names another process and another remote address
// than the one before (the decoder converts both again); without, they are
// the same (loopback churn from one process: it converts neither).
double decode_ns(int rounds, bool varied) {
    ts_event records[64];
    for (uint32_t i = 0; i < 64; ++i) {
        records[i] = churn_record(i);
        if (varied) {
            std::snprintf(records[i].comm, sizeof(records[i].comm), "worker-%u", i);
            std::snprintf(records[i].cur_comm, sizeof(records[i].cur_comm), "proc-%u", i);
            std::snprintf(records[i].cur_thread, sizeof(records[i].cur_thread), "thread-%u", i);
            records[i].daddr[3] = static_cast<uint8_t>(i + 2);
        }
    }
    EventDecoder decoder;
    double best = 1e18;
    uint64_t sink = 0;
    for (int series = 0; series < 5; ++series) {
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < rounds * 1000 / 64; ++i) {
            for (const auto& r : records) {
                const Event* e = decoder.decode(&r, sizeof(r));
                sink += e->local.port + e->comm.size();
            }
        }
        auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
        best = std::min(best, ns / (static_cast<double>(rounds * 1000 / 64) * 64));
    }
    if (sink == 0) std::printf("(nothing decoded)\n");
    return best;
}

}  // namespace

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
    std::printf("decode: %.1f ns/record, the same process and addresses as the record before; "
                "%.1f ns/record, others (best of 5 series of about %d000)\n",
                decode_ns(rounds, false), decode_ns(rounds, true), rounds);
    return 0;
}
