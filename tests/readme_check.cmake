# The README's example must be examples/quickstart/main.cpp, which is compiled
# with the examples: fails when the two drift apart.
cmake_minimum_required(VERSION 3.16)
file(READ ${FINCH_SOURCE_DIR}/README.md readme)
file(READ ${FINCH_SOURCE_DIR}/examples/quickstart/main.cpp example)
string(FIND "${readme}" "${example}" position)
if(position EQUAL -1)
  message(FATAL_ERROR "README.md does not quote examples/quickstart/main.cpp verbatim")
endif()
