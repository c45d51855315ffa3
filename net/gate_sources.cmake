set(SOCKSCOPE_GATE_SOURCES gate.cpp helper_proto.cpp helper_client.cpp)
