# The dependencies of the finch::finch target. Shared by the build tree and the
# installed package (finchConfig.cmake includes a copy of this file), so that
# both resolve them the same way.
include(CMakeFindDependencyMacro)
find_dependency(Boost 1.81 CONFIG)
find_dependency(nlohmann_json 3.10)
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_dependency(Threads)
# Optional: only finch::compression (permessage-deflate) needs zlib.
find_package(ZLIB QUIET)
