// The control for the layers.* tests: a pure file that includes only its
// own layer builds, so the other probes fail for the reason they name.
#include "event.h"

int probe() { return static_cast<int>(sizeof(tcpscope::Event)); }
