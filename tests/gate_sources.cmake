sockscope_add_test(gate_test gate_test.cpp)
