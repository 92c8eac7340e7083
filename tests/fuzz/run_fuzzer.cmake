# Runs a libFuzzer binary for SECONDS on a fresh copy of the SEEDS directory,
# inside WORK_DIR, so that the inputs it finds never land in the source tree.
# Fails on any crash, leak, slow input or memory excess, naming the input kept.
cmake_minimum_required(VERSION 3.16)
foreach(variable FUZZER SEEDS WORK_DIR SECONDS)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "run_fuzzer.cmake: ${variable} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/artifacts)
file(COPY ${SEEDS}/ DESTINATION ${WORK_DIR}/corpus)

set(arguments
  -max_total_time=${SECONDS}
  # One input may take this long (seconds) before it counts as a hang.
  -timeout=10
  -rss_limit_mb=2048
  -artifact_prefix=${WORK_DIR}/artifacts/
  -print_final_stats=1)
if(DEFINED DICTIONARY AND EXISTS ${DICTIONARY})
  list(APPEND arguments -dict=${DICTIONARY})
endif()

execute_process(COMMAND ${FUZZER} ${arguments} ${WORK_DIR}/corpus
  WORKING_DIRECTORY ${WORK_DIR}
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  file(GLOB artifacts ${WORK_DIR}/artifacts/*)
  message(FATAL_ERROR "the fuzzer failed (${result}); input kept: ${artifacts}")
endif()
