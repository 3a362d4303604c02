# Install layout (FHS) and the Debian package: `cmake --build build --target package` writes
# build/moelab_<version>_amd64.deb. The man page and bash completion of moelab-cli are generated at
# build time by the freshly built moelab-cli from its usage text and the config schema.
include(GNUInstallDirs)
set(PKG_OUT ${CMAKE_BINARY_DIR}/packaging)
add_custom_command(
  OUTPUT ${PKG_OUT}/moelab-cli.1.gz ${PKG_OUT}/moelab.1.gz ${PKG_OUT}/moelab-cli.bash ${PKG_OUT}/changelog.gz
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:moelab-cli> -DOUT_DIR=${PKG_OUT} -DSOURCE_DIR=${CMAKE_SOURCE_DIR}
          -P ${CMAKE_SOURCE_DIR}/cmake/GenerateCliDocs.cmake
  DEPENDS moelab-cli ${CMAKE_SOURCE_DIR}/packaging/moelab.1 ${CMAKE_SOURCE_DIR}/packaging/changelog
          ${CMAKE_SOURCE_DIR}/cmake/GenerateCliDocs.cmake
  COMMENT "Generating moelab-cli's man page and bash completion")
add_custom_target(moelab_packaging_docs ALL DEPENDS ${PKG_OUT}/moelab-cli.1.gz ${PKG_OUT}/moelab-cli.bash)

install(TARGETS moelab-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS moelab-engine-module LIBRARY DESTINATION ${MOELAB_ENGINE_MODULE_DIR})
if(MOELAB_BUILD_UI)
  install(TARGETS moelab RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${PKG_OUT}/moelab.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  install(FILES packaging/org.moelab.MoELab.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
  install(FILES packaging/org.moelab.MoELab.metainfo.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
  install(FILES packaging/org.moelab.MoELab.svg DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
endif()
install(DIRECTORY experiments/ DESTINATION ${CMAKE_INSTALL_DATADIR}/moelab/experiments FILES_MATCHING PATTERN "*.json")
install(FILES ${PKG_OUT}/moelab-cli.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PKG_OUT}/moelab-cli.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME moelab-cli)
install(FILES packaging/copyright ${PKG_OUT}/changelog.gz DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/moelab)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME moelab)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "MoE Lab developers <maintainers@users.noreply.h-seed-f352b9da.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Mixture-of-Experts language-model research workbench")
set(CPACK_PACKAGE_DESCRIPTION
    "MoE Lab trains GNN-coupled dense MoE, dense transformer and sparse top-k
MoE language models on your own machine, with live charts of losses, expert
coupling and routing, sweeps, a routing profiler and an all-to-all network
simulator. Every run is kept in an SQLite experiment database. The package
has the Qt desktop application (moelab) and the command line (moelab-cli).")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # moelab_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # dpkg-shlibdeps over the executables and the engine module
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://moelab.org/")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libopenblas0-pthread")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
