include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS finch EXPORT finchTargets)
if(TARGET finch_compression)
  install(TARGETS finch_compression EXPORT finchTargets)
endif()
if(TARGET finch_tls)
  install(TARGETS finch_tls EXPORT finchTargets)
endif()
if(TARGET finch_redis)
  install(TARGETS finch_redis EXPORT finchTargets)
endif()
install(DIRECTORY include/finch DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(FINCH_CONFIG_DIR ${CMAKE_INSTALL_DATADIR}/cmake/finch)
install(EXPORT finchTargets NAMESPACE finch:: DESTINATION ${FINCH_CONFIG_DIR})

configure_package_config_file(cmake/finchConfig.cmake.in
  ${PROJECT_BINARY_DIR}/finchConfig.cmake
  INSTALL_DESTINATION ${FINCH_CONFIG_DIR})
# A header-only library has no ABI, so any build may use it: ARCH_INDEPENDENT.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/finchConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  ${PROJECT_BINARY_DIR}/finchConfig.cmake
  ${PROJECT_BINARY_DIR}/finchConfigVersion.cmake
  cmake/FinchDependencies.cmake
  DESTINATION ${FINCH_CONFIG_DIR})
