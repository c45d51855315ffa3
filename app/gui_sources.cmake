# The GUI parts of the sockscope executable (included by app/CMakeLists.txt when
# SOCKSCOPE_BUILD_GUI is on). Paths are relative to app/.
set(SOCKSCOPE_GUI_APP_SOURCES gui_app.cpp gui_pictures.cpp gui_time.cpp gui_redraw.cpp gui_program.cpp bench_report.cpp font_texture.cpp presenter_window.cpp screenshot.cpp export.cpp)
set(SOCKSCOPE_GUI_APP_LIBS
  sockscope_ui
  sockscope::imgui_backends
  sockscope::imgui
  sockscope::glad
  glfw
  OpenGL::GL
  PNG::PNG)
