# Finds the dependencies every part of sockscope needs (net/, app/, tests/).
# A missing one stops configuration with the Debian package that brings it.
include_guard(GLOBAL)

macro(sockscope_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR "sockscope needs ${what}: install the Debian package '${package}' "
                        "(sudo apt-get install ${package}), or run scripts/setup.sh")
  endif()
endmacro()

find_package(Threads REQUIRED)
find_package(PkgConfig)
sockscope_require(PKG_CONFIG_FOUND "pkg-config" "pkg-config")

pkg_check_modules(MNL IMPORTED_TARGET libmnl)
sockscope_require(MNL_FOUND "libmnl (netlink)" "libmnl-dev")

find_package(nlohmann_json 3 QUIET)
sockscope_require(nlohmann_json_FOUND "nlohmann JSON" "nlohmann-json3-dev")

find_package(CLI11 QUIET CONFIG)
if(NOT CLI11_FOUND)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp)
  sockscope_require(CLI11_INCLUDE_DIR "CLI11" "libcli11-dev")
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()

if(SOCKSCOPE_BUILD_TESTS)
  find_package(GTest QUIET)
  sockscope_require(GTest_FOUND "GoogleTest" "libgtest-dev")
endif()
