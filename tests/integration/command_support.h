// Integration-test support: running a shell command (curl, for the tests that compare cork's
// behaviour with what a real client sees) and capturing its standard output.
#pragma once

#include <optional>
#include <string>

namespace cork::integration {

// Runs `command` with /bin/sh and returns its stdout, or nullopt when it could not be started.
// `exit_status` is its exit code, or -1 when it was killed by a signal.
std::optional<std::string> run_command(const std::string& command, int& exit_status);

// Single-quotes `text` for /bin/sh.
std::string shell_quote(const std::string& text);

}  // namespace cork::integration
