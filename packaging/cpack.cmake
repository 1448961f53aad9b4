# Debian package (cpack -G DEB in the build folder): mpa-studio and mpa, the desktop entry,
# the icon and the AppStream metainfo. Library dependencies are computed by dpkg-shlibdeps;
# what is loaded at run time rather than linked is declared by hand.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/mpa-studio.desktop DESTINATION share/applications)
install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/mpa-studio.svg DESTINATION share/icons/hicolor/scalable/apps)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/io.github.mpastudio.MpaStudio.metainfo.xml DESTINATION share/metainfo)
# The demo teacher and student (mpa demo run finds them here when installed).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/resources/demo/models/ DESTINATION share/mpa-studio/demo-models OPTIONAL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mpa-studio)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Align a small vision-language model to a large one from unlabeled images")
set(CPACK_PACKAGE_CONTACT "MPA Studio developers <mpa-studio@users.noreply.github.com>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON) # RelWithDebInfo binaries carry ~60 MB of debug info
# Loaded at run time, not linked: the SQLite driver, the Qt platform plugins, OpenBLAS as the
# BLAS alternative (80-105 GFLOP/s against 4 for the reference BLAS).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6sql6-sqlite, qt6-qpa-plugins, libopenblas0-pthread")
include(CPack)
