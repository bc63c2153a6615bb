# Runs hami-compat on VECTORS. Exit 77 (skip) when the file is absent. With EXPECT_FAIL,
# succeeds only if the runner fails and names the broken case "trim-broken".
if(NOT EXISTS "${VECTORS}")
  message("vector file ${VECTORS} not found: skipping")
  cmake_language(EXIT 77)
endif()
execute_process(COMMAND "${BIN}" --vectors "${VECTORS}" RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
message("${out}${err}")
if(EXPECT_FAIL)
  if(rc EQUAL 0 OR NOT out MATCHES "FAIL trim-broken" OR NOT out MATCHES "1 passed, 1 failed")
    message(FATAL_ERROR "hami-compat did not report the broken case (rc=${rc})")
  endif()
else()
  if(NOT rc EQUAL 0 OR NOT out MATCHES " 0 failed")
    message(FATAL_ERROR "hami-compat reported failures (rc=${rc})")
  endif()
endif()
