# The kernel probe's sources, relative to net/ (included by net/CMakeLists.txt).
set(SOCKSCOPE_PROBE_SOURCES kernel_types.cpp diag_parse.cpp diag_socket.cpp tracker.cpp probe.cpp clock.cpp)
