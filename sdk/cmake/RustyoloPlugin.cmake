# rustyolo_add_plugin(<target> SOURCES <src>... [OUTPUT_NAME <file stem>] [INSTALL_DIR <dir>]
#                     [LINK <libs>...])
#
# Builds a rustyolo plugin: a MODULE library with hidden visibility, linked with -z defs (every
# symbol resolved at link time), exporting only rustyolo_plugin_entry. The file is <stem>.so.
include_guard(GLOBAL)

function(rustyolo_add_plugin target)
  cmake_parse_arguments(ARG "" "OUTPUT_NAME;INSTALL_DIR" "SOURCES;LINK" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "rustyolo_add_plugin(${target}): SOURCES is required")
  endif()
  if(NOT ARG_OUTPUT_NAME)
    set(ARG_OUTPUT_NAME ${target})
  endif()
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE rustyolo::sdk ${ARG_LINK})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${ARG_OUTPUT_NAME}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${target} PRIVATE "LINKER:-z,defs" "LINKER:--exclude-libs,ALL")
  if(DEFINED RUSTYOLO_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${RUSTYOLO_PLUGIN_OUTPUT_DIR})
  endif()
  if(ARG_INSTALL_DIR)
    install(TARGETS ${target} LIBRARY DESTINATION ${ARG_INSTALL_DIR})
  endif()
endfunction()
