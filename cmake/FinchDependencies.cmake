# The dependencies of the finch::finch target. Shared by the build tree and the
# installed package (finchConfig.cmake includes a copy of this file), so that
# both resolve them the same way.
include(CMakeFindDependencyMacro)
find_dependency(Boost 1.81 CONFIG)
# 3.11: the version the tests build against (Debian 12's 3.11.2); the envelope
# writer uses nlohmann's serializer, which a unit test holds to dump().
find_dependency(nlohmann_json 3.11)
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_dependency(Threads)
# Optional: only finch::compression (permessage-deflate) needs zlib.
find_package(ZLIB QUIET)
# Optional: only finch::tls (wss://) needs OpenSSL.
find_package(OpenSSL 1.1.1 QUIET)
# Optional: only finch::redis (the Redis backplane) needs hiredis. hiredis
# 1.0 and later install a CMake package with the target hiredis::hiredis;
# Debian 12's 0.14 installs none, so the target is made from the header and
# the library when the package is not there.
if(NOT TARGET hiredis::hiredis)
  find_package(hiredis CONFIG QUIET)
endif()
if(NOT TARGET hiredis::hiredis)
  find_path(FINCH_HIREDIS_INCLUDE_DIR hiredis/async.h)
  find_library(FINCH_HIREDIS_LIBRARY hiredis)
  mark_as_advanced(FINCH_HIREDIS_INCLUDE_DIR FINCH_HIREDIS_LIBRARY)
  if(FINCH_HIREDIS_INCLUDE_DIR AND FINCH_HIREDIS_LIBRARY)
    add_library(hiredis::hiredis UNKNOWN IMPORTED)
    set_target_properties(hiredis::hiredis PROPERTIES
      IMPORTED_LOCATION "${FINCH_HIREDIS_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${FINCH_HIREDIS_INCLUDE_DIR}")
  endif()
endif()
