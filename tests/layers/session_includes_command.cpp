// Compiled as part of the session layer by the layers.* tests: the
// commands sit on the session, never under it, so a command's header must
// not be found there.
#include "scenario_commands.h"

int probe() { return 0; }
