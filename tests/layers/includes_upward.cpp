// Compiled as part of the events layer by the layers.* tests: the loader
// lives in a layer above it, so its header must not be found.
#include "tracer.h"

int probe() { return 0; }
