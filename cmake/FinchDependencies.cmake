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
