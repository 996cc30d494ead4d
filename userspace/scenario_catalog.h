// The bundled scenarios (../shared/SCENARIOS.md): names, one-line
// summaries, facts and explanations. Each scenario's facts live in
// facts/<name>.cpp; its program in scenarios/<name>.cpp.
#pragma once

#include <string>
#include <vector>

#include "facts.h"

namespace tcpscope {

const std::vector<ScenarioSpec>& scenario_catalog();
const ScenarioSpec* find_scenario(const std::string& name);

// One factory per scenario, defined in facts/<name>.cpp.
ScenarioSpec zero_byte_send_scenario();
ScenarioSpec sigpipe_default_scenario();
ScenarioSpec close_unread_data_scenario();
ScenarioSpec linger_zero_scenario();
ScenarioSpec time_wait_scenario();
ScenarioSpec close_wait_forever_scenario();
ScenarioSpec fin_wait1_zero_window_scenario();
ScenarioSpec shutdown_write_scenario();
ScenarioSpec send_buffer_full_scenario();
ScenarioSpec connect_refused_scenario();
ScenarioSpec nonblocking_connect_scenario();
ScenarioSpec rst_before_accept_scenario();
ScenarioSpec peer_vanished_scenario();
ScenarioSpec peer_rebooted_scenario();
ScenarioSpec server_killed_scenario();
ScenarioSpec econnreset_then_sigpipe_scenario();

}  // namespace tcpscope
