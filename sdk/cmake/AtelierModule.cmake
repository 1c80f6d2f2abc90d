# atelier_add_module(<id> SOURCES <files...> [LIBS <targets...>] [MANIFEST <module.json>])
#
# Builds lib<id>.so with hidden visibility and no undefined symbols (a module reaches the
# host only through the atelier_host_v1 table), places module.json beside it, and makes an
# object library <id>_objects that unit tests link together with the fake host.
include_guard(GLOBAL)

function(atelier_add_module id)
  cmake_parse_arguments(ARG "" "MANIFEST;OUTPUT_DIR" "SOURCES;LIBS" ${ARGN})
  if(NOT ARG_MANIFEST)
    set(ARG_MANIFEST ${CMAKE_CURRENT_SOURCE_DIR}/module.json)
  endif()
  if(NOT ARG_OUTPUT_DIR)
    if(DEFINED ATELIER_MODULE_OUTPUT_DIR)
      set(ARG_OUTPUT_DIR ${ATELIER_MODULE_OUTPUT_DIR})
    else()
      set(ARG_OUTPUT_DIR ${CMAKE_BINARY_DIR}/modules)
    endif()
  endif()
  string(REPLACE "-" "_" target_id "${id}")
  add_library(${target_id}_objects OBJECT ${ARG_SOURCES})
  target_link_libraries(${target_id}_objects PUBLIC Atelier::sdk ${ARG_LIBS})
  # The SDK pulls in Poco::JSON in every file; compile it once per module.
  if(NOT ATELIER_NO_PCH)
    target_precompile_headers(${target_id}_objects PRIVATE <atelier/sdk.hpp>)
  endif()
  set_target_properties(${target_id}_objects PROPERTIES
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON POSITION_INDEPENDENT_CODE ON)
  add_library(${target_id}_module MODULE $<TARGET_OBJECTS:${target_id}_objects>)
  target_link_libraries(${target_id}_module PRIVATE Atelier::sdk ${ARG_LIBS})
  set_target_properties(${target_id}_module PROPERTIES
    OUTPUT_NAME ${id} PREFIX "lib"
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR}
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${target_id}_module PRIVATE -Wl,-z,defs)
  add_custom_command(TARGET ${target_id}_module POST_BUILD
    COMMAND ${CMAKE_COMMAND} -E copy_if_different ${ARG_MANIFEST} ${ARG_OUTPUT_DIR}/${id}.module.json
    VERBATIM)
  if(NOT ATELIER_NO_INSTALL_MODULES)
    install(TARGETS ${target_id}_module LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/atelier/modules)
    install(FILES ${ARG_MANIFEST} DESTINATION ${CMAKE_INSTALL_LIBDIR}/atelier/modules RENAME ${id}.module.json)
  endif()
endfunction()
