# Warning flags for finch's own executables (tests, examples, benchmarks).
# finch::finch itself adds no flags to its users' targets.
function(finch_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
    if(FINCH_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
endfunction()
