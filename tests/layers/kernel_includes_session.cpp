// Compiled as part of the kernel layer by the layers.* tests: the session
// sits above the kernel (it starts the tracer), so its header must not be
// found there.
#include "session.h"

int probe() { return 0; }
