// `--run -- PROGRAM ARGS` and `--watch PORTS`, headless (DESIGN.md, command-line contract).
#pragma once

#include "cli.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace sockscope {

// Traces options.Program until it and its children have exited (or --duration), printing
// each call and the kernel's view of its sockets (JSON trace lines with --json). Returns
// 0 when tracing worked to the end (whatever the program's own status), 1 when it could
// not (ptrace not permitted...), 2 when there is no such program.
int RunTraced(const Options& options);

// The probe alone on options.Watch until SIGINT, SIGTERM or --duration: a line (or a JSON
// trace line) whenever the view changes. Returns 0, or 1 when the kernel cannot be asked.
int RunWatch(const Options& options);

// Which process holds each socket inode, where /proc lets this user see it (as ss -p):
// inode -> {pid, command name}.
struct SocketHolder {
    int Pid = 0;
    std::string Command;
};
std::map<std::uint32_t, SocketHolder> SocketHolders();

} // namespace sockscope
