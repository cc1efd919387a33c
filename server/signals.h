// Signals as events: SIGINT, SIGTERM, SIGHUP and SIGUSR1 are blocked in every thread and read
// from a signalfd in the reactor's epoll set. SIGPIPE is ignored so that a vanished client
// never kills the process, and SIGXFSZ so that a log growing past RLIMIT_FSIZE fails its write
// with EFBIG (counted and reported, server/log_file.h) instead of ending the process.
#pragma once

#include "server/unique_fd.h"

namespace cork {

// Must run in main() before any thread starts, so that every thread inherits the mask.
// Returns false (errno set) on failure.
bool block_server_signals();

// A non-blocking signalfd for the blocked signals, or an empty UniqueFd (errno set).
UniqueFd open_signal_fd();

// Reads one pending signal from the signalfd: its number, or 0 when none is pending.
int read_signal(int signal_fd);

}  // namespace cork
