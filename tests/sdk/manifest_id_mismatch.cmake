# Configure-time check: a manifest whose id is not the module's must stop the build.
include(${MODULE_CMAKE})
atelier_module_manifest_header(not-notes ${MANIFEST} ${OUT_DIR})
