// The ring buffer reading both tracers share (the TCP events' and exec's
// syscall capture): each record handed to a handler, and a poll that also
// takes the records submitted without a wakeup.
#pragma once

#include <cstddef>

struct ring_buffer;

namespace tcpscope {

// libbpf's sample callback; ctx is a std::function<void(const void*, size_t)>.
int call_record_handler(void* ctx, void* data, size_t size);

// Waits up to timeout_ms for records (woken early when the buffer fills),
// then hands over every record ready, those submitted without a wakeup
// too (they do not end the wait). The number handled, or a negative errno.
int poll_ring_buffer(struct ring_buffer* ring, int timeout_ms);

}  // namespace tcpscope
