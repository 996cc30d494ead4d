// Symbolic errno names ("EPIPE"), the form steps carry: the runner compares
// names, not numbers, so the catalogue reads the same on every architecture.
#pragma once

#include <string>

namespace scen {

// "EPIPE" for EPIPE; "E<number>" for values not in the table.
std::string errno_name(int err);

}  // namespace scen
