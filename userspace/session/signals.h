// Stop requests from SIGINT, SIGTERM and SIGHUP, as a flag the poll loops
// check. SIGPIPE is ignored so that a closed output shows up as EPIPE
// from write(), which the writer turns into a quiet stop.
#pragma once

#include <csignal>

namespace tcpscope {

void install_stop_handlers();
bool stop_requested();
int stop_signal();  // the signal that asked us to stop, 0 if none
// Whether that signal came from the kernel (si_code SI_KERNEL): a
// terminal's Ctrl-C, Ctrl-\ or hangup, which the tty driver sends to the
// whole foreground process group at once, rather than from a process that
// named us (kill(2), SI_USER).
bool stop_sent_by_kernel();

}  // namespace tcpscope
