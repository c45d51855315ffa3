# The GUI's tests (included by tests/CMakeLists.txt). Only with the GUI.
if(SOCKSCOPE_BUILD_GUI)
  sockscope_add_test(gui_test gui_test.cpp gui_panels_test.cpp gui_layout_test.cpp)
  target_link_libraries(gui_test PRIVATE sockscope_ui sockscope::imgui PNG::PNG)
  # The queue panel's rows, bars and slides.
  target_sources(gui_test PRIVATE gui_queues_test.cpp)
  # Play: the lesson stepping itself.
  target_sources(gui_test PRIVATE gui_play_test.cpp)
  # The translation files (assets/i18n) and their reader.
  target_sources(gui_test PRIVATE i18n_test.cpp)
  # The notice of a lesson with gates where gates do not work.
  target_sources(gui_test PRIVATE gui_privilege_test.cpp)
  # The playground's command line, typed into, on a real lab.
  target_sources(gui_test PRIVATE gui_playground_test.cpp)
  # The packet panel: segments, datagrams and ICMP errors, captured or inferred.
  target_sources(gui_test PRIVATE gui_packets_test.cpp gui_history_test.cpp)
  # The smoke tests run the real binary.
  add_dependencies(gui_test sockscope)
  # Every step of every lesson in both languages, drawn by the real binary.
  sockscope_add_test(gui_screens_test gui_screens_test.cpp)
  target_link_libraries(gui_screens_test PRIVATE sockscope_ui sockscope::imgui PNG::PNG)
endif()
# --run and --watch in the GUI: the program's panel on a real traced program (app/gui_program.cpp).
if(SOCKSCOPE_BUILD_GUI)
  target_sources(gui_test PRIVATE gui_program_test.cpp ${PROJECT_SOURCE_DIR}/app/gui_program.cpp)
  target_include_directories(gui_test PRIVATE ${PROJECT_SOURCE_DIR}/app)
  add_dependencies(gui_test no_accept_server)
  target_compile_definitions(gui_test PRIVATE SOCKSCOPE_EXAMPLES_DIR="${CMAKE_BINARY_DIR}/examples")
endif()
# The diagrams exported as SVG (ui/svg_export.hpp, --export-svg) and PNG (--export-png).
if(SOCKSCOPE_BUILD_GUI)
  sockscope_add_test(gui_export_test gui_export_test.cpp)
  target_link_libraries(gui_export_test PRIVATE sockscope_ui sockscope::imgui PNG::PNG)
endif()
