# Helpers that declare every npushare library, test and binary the same way
# (modelled on Abseil's absl_cc_library): explicit dependencies, a namespaced
# alias, warnings as errors for our own code.

# -Wconversion is left out on purpose: quantities and counters are range-checked at
# parse time, and the flag's noise on int32<->int64 arithmetic hid real warnings.
set(NPUSHARE_WARNINGS -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2
    -Wimplicit-fallthrough)

function(npushare_apply_warnings target)
  target_compile_options(${target} PRIVATE ${NPUSHARE_WARNINGS})
endfunction()

# npushare_cc_library(NAME foo SRCS a.cc HDRS a.h DEPS npushare::common)
# Declares static library npushare_foo with alias npushare::foo.
function(npushare_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;HDRS;DEPS;PUBLIC_DEPS" ${ARGN})
  set(target npushare_${ARG_NAME})
  add_library(${target} STATIC ${ARG_SRCS} ${ARG_HDRS})
  add_library(npushare::${ARG_NAME} ALIAS ${target})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_DEPS})
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  npushare_apply_warnings(${target})
endfunction()

# npushare_cc_test(NAME foo_test SRCS foo_test.cc DEPS npushare::foo)
# Declares a GoogleTest executable registered with CTest (one ctest entry per test case).
function(npushare_cc_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${ARG_NAME} PRIVATE
    NPUSHARE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    NPUSHARE_BIN_DIR="${CMAKE_RUNTIME_OUTPUT_DIRECTORY}")
  target_compile_options(${ARG_NAME} PRIVATE -Wall -Wextra -Werror)
  # Tests labelled "timing" measure shares of wall-clock time on this machine's cores: they run
  # alone (RUN_SERIAL), since a CPU-heavy neighbour (the qemu cross run, a build-heavy test)
  # takes the cores their workloads and arbiter need and skews the measured shares.
  # Labels and the timing lock are set from a CTest include file run after discovery:
  # gtest_discover_tests(PROPERTIES ...) splits a list value, so a second label became a
  # property name and took the timing tests' serial property with it.
  set(props "LABELS \"${ARG_LABELS}\"")
  if("timing" IN_LIST ARG_LABELS)
    string(APPEND props " RUN_SERIAL TRUE")
  endif()
  gtest_discover_tests(${ARG_NAME} DISCOVERY_TIMEOUT 60 TEST_LIST ${ARG_NAME}_TESTS)
  if(ARG_LABELS)
    set(props_file ${CMAKE_CURRENT_BINARY_DIR}/${ARG_NAME}_properties.cmake)
    file(WRITE ${props_file}
      "if(${ARG_NAME}_TESTS)\n  set_tests_properties(\${${ARG_NAME}_TESTS} PROPERTIES ${props})\nendif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${props_file})
  endif()
endfunction()

# npushare_cc_binary(NAME npushare SRCS main.cc DEPS ...)
function(npushare_cc_binary)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  npushare_apply_warnings(${ARG_NAME})
endfunction()
