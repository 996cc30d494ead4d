#include "ring_reader.h"

#include <functional>

#include <bpf/libbpf.h>

namespace tcpscope {

int call_record_handler(void* ctx, void* data, size_t size) {
    (*static_cast<std::function<void(const void*, size_t)>*>(ctx))(data, size);
    return 0;
}

int poll_ring_buffer(struct ring_buffer* ring, int timeout_ms) {
    int n = ring_buffer__poll(ring, timeout_ms);
    if (n < 0) return n;
    int more = ring_buffer__consume(ring);
    return more < 0 ? more : n + more;
}

}  // namespace tcpscope
