# Builds and runs tests/package/consumer against finch in one MODE:
#   cmake -DMODE=find_package|add_subdirectory|fetchcontent -DFINCH_SOURCE_DIR=...
#         -DFINCH_BINARY_DIR=... -DWORK_DIR=... -P run.cmake
# find_package installs the build tree FINCH_BINARY_DIR into a fresh prefix first.
cmake_minimum_required(VERSION 3.16)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed (${result}): ${ARGN}\n${output}")
  endif()
  set(last_output "${output}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
set(options -DFINCH_CONSUMER_MODE=${MODE} -DFINCH_SOURCE_DIR=${FINCH_SOURCE_DIR})
if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} --install ${FINCH_BINARY_DIR} --prefix ${prefix})
  list(APPEND options -DCMAKE_PREFIX_PATH=${prefix})
endif()
if(CMAKE_CXX_COMPILER_LAUNCHER)
  list(APPEND options -DCMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER})
endif()

run(${CMAKE_COMMAND} -S ${FINCH_SOURCE_DIR}/tests/package/consumer -B ${WORK_DIR}/build ${options})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
set(plain_output "${last_output}")
run(${WORK_DIR}/build/consumer_compression)
set(plain_output "${plain_output}${last_output}")
run(${WORK_DIR}/build/consumer_tls)
set(plain_output "${plain_output}${last_output}")
run(${WORK_DIR}/build/consumer_redis)
set(last_output "${plain_output}${last_output}")
message(STATUS "${MODE}: ${last_output}")
