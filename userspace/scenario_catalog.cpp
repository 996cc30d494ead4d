#include "scenario_catalog.h"

namespace tcpscope {

const std::vector<ScenarioSpec>& scenario_catalog() {
    static const std::vector<ScenarioSpec> catalog = {
        zero_byte_send_scenario(),
        sigpipe_default_scenario(),
        close_unread_data_scenario(),
        linger_zero_scenario(),
        time_wait_scenario(),
        close_wait_forever_scenario(),
        fin_wait1_zero_window_scenario(),
        shutdown_write_scenario(),
        send_buffer_full_scenario(),
        connect_refused_scenario(),
        nonblocking_connect_scenario(),
        rst_before_accept_scenario(),
        peer_vanished_scenario(),
        peer_rebooted_scenario(),
        server_killed_scenario(),
        econnreset_then_sigpipe_scenario(),
    };
    return catalog;
}

const ScenarioSpec* find_scenario(const std::string& name) {
    for (const auto& spec : scenario_catalog()) {
        if (spec.name == name) return &spec;
    }
    return nullptr;
}

}  // namespace tcpscope
