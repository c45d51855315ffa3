# The kernel probe's test executables (included by tests/CMakeLists.txt).
sockscope_add_test(probe_test probe_test.cpp)
sockscope_add_test(probe_thread_test probe_thread_test.cpp)
sockscope_add_test(diag_parse_test diag_parse_test.cpp)
sockscope_add_test(tracker_test tracker_test.cpp)
