# sdk.cmake - what a plugin author gets from an install: the public headers,
# two ways to find them (pkg-config's tautune-plugin.pc and CMake's
# find_package(tautune)), the plugin template under share/tautune, and the
# guides under share/doc/tautune. Included from the top-level CMakeLists.txt
# after TT_INSTALL_PLUGIN_DIR is set and the tautune target exists.
include(CMakePackageConfigHelpers)

# The ABI version, read from plugin.h so that it is written down once.
file(STRINGS ${CMAKE_SOURCE_DIR}/include/tautune/plugin.h TT_ABI_DEFINES
     REGEX "^#define TT_PLUGIN_ABI_(MAJOR|MINOR) +[0-9]+")
string(REGEX MATCH "TT_PLUGIN_ABI_MAJOR +([0-9]+)" _ "${TT_ABI_DEFINES}")
set(TT_PLUGIN_ABI_MAJOR ${CMAKE_MATCH_1})
string(REGEX MATCH "TT_PLUGIN_ABI_MINOR +([0-9]+)" _ "${TT_ABI_DEFINES}")
set(TT_PLUGIN_ABI_MINOR ${CMAKE_MATCH_1})
if(NOT TT_PLUGIN_ABI_MAJOR MATCHES "^[0-9]+$" OR NOT TT_PLUGIN_ABI_MINOR MATCHES "^[0-9]+$")
  message(FATAL_ERROR "cannot read TT_PLUGIN_ABI_MAJOR/MINOR from include/tautune/plugin.h")
endif()

set(TT_INSTALL_TEMPLATE_DIR ${CMAKE_INSTALL_DATADIR}/tautune/plugin-template)
set(TT_INSTALL_DOC_DIR ${CMAKE_INSTALL_DATADIR}/doc/tautune)
set(TT_INSTALL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tautune)

install(FILES include/tautune/tautune.h include/tautune/plugin.h include/tautune/slot.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tautune)

# pkg-config. The .pc file finds its prefix from its own location, so an
# install moved or made with `cmake --install --prefix DIR` still points at
# its headers.
file(RELATIVE_PATH TT_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" TT_PC_TO_PREFIX "${TT_PC_TO_PREFIX}")
configure_file(${CMAKE_SOURCE_DIR}/tautune-plugin.pc.in ${CMAKE_BINARY_DIR}/tautune-plugin.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/tautune-plugin.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# find_package(tautune CONFIG): relocatable the same way (PACKAGE_INIT
# computes the prefix from the config file's own folder). The version file
# takes the program's version and refuses a build for another pointer size:
# the ABI's struct layouts depend on it.
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/tautuneConfig.cmake.in
  ${CMAKE_BINARY_DIR}/cmake/tautuneConfig.cmake
  INSTALL_DESTINATION ${TT_INSTALL_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR TT_INSTALL_PLUGIN_DIR TT_INSTALL_TEMPLATE_DIR
            TT_INSTALL_DOC_DIR CMAKE_INSTALL_BINDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cmake/tautuneConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cmake/tautuneConfig.cmake
              ${CMAKE_BINARY_DIR}/cmake/tautuneConfigVersion.cmake
        DESTINATION ${TT_INSTALL_CMAKE_DIR})

# The template a plugin author copies: the example plugin of tests/ (which
# the install test builds from the prefix, so the copy that ships is the
# one tested).
install(FILES ${CMAKE_SOURCE_DIR}/tests/example_plugin/CMakeLists.txt
              ${CMAKE_SOURCE_DIR}/tests/example_plugin/README.md
              ${CMAKE_SOURCE_DIR}/tests/example_plugin/example_shrunk_diff.c
        DESTINATION ${TT_INSTALL_TEMPLATE_DIR})

# Guides. learners.md is printed by the built binary from the learner
# tables (not copied from docs/), so an install cannot ship a stale one.
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/doc/learners.md
  COMMAND ${CMAKE_COMMAND} -DTT_BINARY=$<TARGET_FILE:tautune>
          -DTT_OUT=${CMAKE_BINARY_DIR}/doc/learners.md
          -P ${CMAKE_SOURCE_DIR}/cmake/learners_doc.cmake
  DEPENDS tautune ${CMAKE_SOURCE_DIR}/cmake/learners_doc.cmake
  COMMENT "Writing doc/learners.md from the learner tables"
  VERBATIM)
add_custom_target(tt_learners_doc ALL DEPENDS ${CMAKE_BINARY_DIR}/doc/learners.md)
install(FILES ${CMAKE_SOURCE_DIR}/docs/plugins.md ${CMAKE_BINARY_DIR}/doc/learners.md
        DESTINATION ${TT_INSTALL_DOC_DIR})
