#include "info_command.h"

#include <cstdio>
#include <string>

#include "command_failure.h"
#include "exit_codes.h"
#include "kernel_info.h"
#include "tracer.h"

namespace tcpscope {

int run_info_command(const InfoOptions& o) {
    std::string error;
    KernelSupport support = probe_kernel_support(&error);
    std::string out = o.json ? kernel_info_json(support) + "\n" : render_kernel_info(support);
    std::fputs(out.c_str(), stdout);
    if (!support.known) {
        return fail("tcpscope info", kExitEnvironment, error);
    }
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace tcpscope
