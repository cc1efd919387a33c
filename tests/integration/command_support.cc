// Integration-test support: running shell commands (see command_support.h).
#include "integration/command_support.h"

#include <stdio.h>
#include <sys/wait.h>

namespace cork::integration {

std::optional<std::string> run_command(const std::string& command, int& exit_status) {
  exit_status = -1;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
    out.append(buffer, n);
  int status = ::pclose(pipe);
  if (status != -1 && WIFEXITED(status)) exit_status = WEXITSTATUS(status);
  return out;
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

}  // namespace cork::integration
