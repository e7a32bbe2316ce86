# rustyolo_add_plugin(<target> SOURCES <src>... [OUTPUT_NAME <file stem>] [INSTALL_DIR <dir>]
#                     [LINK <libs>...])
#
# Builds a rustyolo plugin: a MODULE library with hidden visibility, linked with -z defs (every
# symbol resolved at link time), exporting only rustyolo_plugin_entry. The file is <stem>.so.
#
# Hidden visibility alone leaves symbols exported: template instantiations and inline functions of
# headers that declare default visibility (libstdc++'s std::, some of Boost) come out as weak
# dynamic symbols, and two plugins with different copies of them would interpose on each other. A
# linker version script makes rustyolo_plugin_entry the only dynamic symbol (tests/sdk checks every
# plugin with nm -D).
include_guard(GLOBAL)

function(rustyolo_add_plugin target)
  cmake_parse_arguments(ARG "" "OUTPUT_NAME;INSTALL_DIR" "SOURCES;LINK" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "rustyolo_add_plugin(${target}): SOURCES is required")
  endif()
  if(NOT ARG_OUTPUT_NAME)
    set(ARG_OUTPUT_NAME ${target})
  endif()
  # Written once per build tree (file(CONFIGURE) leaves an unchanged file alone).
  set(version_script ${CMAKE_BINARY_DIR}/rustyolo_plugin_exports.map)
  file(CONFIGURE OUTPUT ${version_script}
       CONTENT "/* Written by RustyoloPlugin.cmake: a rustyolo plugin exports its entry point only. */\n{\n  global: rustyolo_plugin_entry;\n  local: *;\n};\n")
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE rustyolo::sdk ${ARG_LINK})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${ARG_OUTPUT_NAME}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${target} PRIVATE "LINKER:-z,defs" "LINKER:--exclude-libs,ALL"
                      "LINKER:--version-script=${version_script}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${version_script})
  if(DEFINED RUSTYOLO_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${RUSTYOLO_PLUGIN_OUTPUT_DIR})
  endif()
  if(ARG_INSTALL_DIR)
    install(TARGETS ${target} LIBRARY DESTINATION ${ARG_INSTALL_DIR})
  endif()
endfunction()
