# atelier_add_module(<id> SOURCES <files...> [LIBS <targets...>] [MANIFEST <module.json>])
#
# Builds lib<id>.so with hidden visibility and no undefined symbols (a module reaches the
# host only through the atelier_host_v1 table), places module.json beside it, and makes an
# object library <id>_objects that unit tests link together with the fake host.
#
# module.json is the one source of the id, version, description and requirements: it is
# turned into atelier_module_manifest.h (ATELIER_MANIFEST_* macros, C and C++), which
# ATELIER_MODULE(Class) in sdk.hpp reads, so the entry table cannot disagree with it.
include_guard(GLOBAL)

# A C string literal of `value` (quotes and backslashes escaped).
function(_atelier_c_string out value)
  string(REPLACE "\\" "\\\\" value "${value}")
  string(REPLACE "\"" "\\\"" value "${value}")
  string(REPLACE "\n" "\\n" value "${value}")
  set(${out} "\"${value}\"" PARENT_SCOPE)
endfunction()

# Optional string member `key` of the JSON object text `json`, "" when absent or null.
function(_atelier_json_string out json)
  string(JSON value ERROR_VARIABLE err GET "${json}" ${ARGN})
  if(err OR value STREQUAL "NOTFOUND")
    set(value "")
  endif()
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

# Writes <dir>/atelier_module_manifest.h from the manifest; fails the configure step when the
# manifest is not what the module is built as.
function(atelier_module_manifest_header id manifest dir)
  if(NOT CMAKE_SCRIPT_MODE_FILE)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${manifest})
  endif()
  file(READ ${manifest} json)
  string(JSON m_id ERROR_VARIABLE err GET "${json}" id)
  if(err OR NOT m_id STREQUAL id)
    message(FATAL_ERROR "${manifest}: \"id\" must be \"${id}\"")
  endif()
  string(JSON m_version ERROR_VARIABLE err GET "${json}" version)
  if(err OR NOT m_version MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+")
    message(FATAL_ERROR "${manifest}: \"version\" must be a semantic version")
  endif()
  _atelier_json_string(m_description "${json}" description)
  set(reqs "")
  string(JSON n ERROR_VARIABLE err LENGTH "${json}" requires)
  if(NOT err AND n GREATER 0)
    math(EXPR last "${n} - 1")
    foreach(i RANGE ${last})
      string(JSON r_id ERROR_VARIABLE err GET "${json}" requires ${i} id)
      if(err)
        message(FATAL_ERROR "${manifest}: requires[${i}] has no \"id\"")
      endif()
      _atelier_json_string(r_min "${json}" requires ${i} min)
      _atelier_json_string(r_max "${json}" requires ${i} max)
      _atelier_c_string(r_id "${r_id}")
      _atelier_c_string(r_min "${r_min}")
      _atelier_c_string(r_max "${r_max}")
      string(APPEND reqs " \\\n    X(${r_id}, ${r_min}, ${r_max})")
    endforeach()
  endif()
  _atelier_c_string(c_id "${m_id}")
  _atelier_c_string(c_version "${m_version}")
  _atelier_c_string(c_description "${m_description}")
  # file(CONFIGURE) rewrites only on change, so a reconfigure does not rebuild the module.
  file(CONFIGURE OUTPUT ${dir}/atelier_module_manifest.h @ONLY CONTENT
"/* Generated from ${manifest} by AtelierModule.cmake: edit the manifest, not this file. */
#ifndef ATELIER_MODULE_MANIFEST_H
#define ATELIER_MODULE_MANIFEST_H
#define ATELIER_MANIFEST_ID ${c_id}
#define ATELIER_MANIFEST_VERSION ${c_version}
#define ATELIER_MANIFEST_DESCRIPTION ${c_description}
/* X(id, min_version, max_version) once per requirement. */
#define ATELIER_MANIFEST_REQUIRES(X)${reqs}
#endif
")
endfunction()

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
  set(manifest_dir ${CMAKE_CURRENT_BINARY_DIR}/${target_id}_manifest)
  atelier_module_manifest_header(${id} ${ARG_MANIFEST} ${manifest_dir})
  add_library(${target_id}_objects OBJECT ${ARG_SOURCES})
  target_link_libraries(${target_id}_objects PUBLIC Atelier::sdk ${ARG_LIBS})
  target_include_directories(${target_id}_objects PRIVATE ${manifest_dir})
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
