# rustyolo_check_layering(): the plugin layering, checked when the build is configured.
#
# Every target defined under plugins/ and agents/ builds from the SDK alone (the compile-time half
# of this rule is core/private_header.hpp). This checks the link half: such a target must not link
#   - a library defined under core/ or entrypoint/ (the host's and the container's private code);
#   - a library defined in another plugin's or agent's folder (each plugin is a unit of its own).
# Two exceptions: the libraries in plugins/net-common are the network plugins' shared code; the
# network plugins (plugins/net-*) and the DNS filter program (plugins/dns-filter) may link them.
# agents/common (header-only, SDK only) is the agent plugins' shared code; agents/* may link it.
# Imported and system libraries, the SDK (sdk/) and the project-wide interface targets of the
# top-level CMakeLists.txt (rustyolo_warnings) are fine. Direct links are checked for every target,
# so what a target pulls in through another one is checked where that one is defined.
#
# A violation fails the configure, naming the target, its folder, the library and the library's
# folder.
include_guard(GLOBAL)

# The folder that owns `dir`, relative to the source root: "plugins/<name>", "agents/<name>",
# "core", "entrypoint", or "" for anything else (the top level, sdk/, tests/).
function(_rustyolo_layer_of dir out)
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${dir})
  if(rel MATCHES "^((plugins|agents)/[^/]+)")
    set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
  elseif(rel MATCHES "^(core|entrypoint)(/|$)")
    set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

function(_rustyolo_targets_under dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _rustyolo_targets_under(${sub} more)
    list(APPEND targets ${more})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

# Why `folder` may not link a library defined in `lib_folder` ("" when it may).
function(_rustyolo_link_problem folder lib_folder out)
  set(problem "")
  if(lib_folder STREQUAL "core" OR lib_folder STREQUAL "entrypoint")
    set(problem "${lib_folder}/ is private to the host and the container; a plugin builds from the SDK")
  elseif(lib_folder STREQUAL "" OR lib_folder STREQUAL folder)
    set(problem "")
  elseif(lib_folder STREQUAL "plugins/net-common")
    if(NOT folder MATCHES "^plugins/(net-[^/]+|dns-filter)$")
      set(problem "plugins/net-common is shared by the network plugins (net-*) and the DNS filter only")
    endif()
  elseif(lib_folder STREQUAL "agents/common")
    if(NOT folder MATCHES "^agents/[^/]+$")
      set(problem "agents/common is shared by the agent plugins (agents/*) only")
    endif()
  else()
    string(CONCAT problem "it belongs to another plugin's folder; move shared code into the SDK (or, "
                          "for network code, into plugins/net-common; for agents, into agents/common)")
  endif()
  set(${out} "${problem}" PARENT_SCOPE)
endfunction()

function(rustyolo_check_layering)
  set(targets "")
  foreach(top plugins agents)
    if(IS_DIRECTORY ${PROJECT_SOURCE_DIR}/${top})
      _rustyolo_targets_under(${PROJECT_SOURCE_DIR}/${top} found)
      list(APPEND targets ${found})
    endif()
  endforeach()

  set(errors "")
  foreach(target IN LISTS targets)
    get_target_property(source_dir ${target} SOURCE_DIR)
    _rustyolo_layer_of(${source_dir} folder)
    get_target_property(links ${target} LINK_LIBRARIES)
    get_target_property(interface_links ${target} INTERFACE_LINK_LIBRARIES)
    set(items "")
    foreach(item IN LISTS links interface_links)
      if(NOT item OR item MATCHES "-NOTFOUND$")
        continue()
      endif()
      # A static library's private links appear as $<LINK_ONLY:lib> in its interface.
      while(item MATCHES "^\\$<LINK_ONLY:(.*)>$")
        set(item ${CMAKE_MATCH_1})
      endwhile()
      list(APPEND items ${item})
    endforeach()
    list(REMOVE_DUPLICATES items)
    foreach(item IN LISTS items)
      if(NOT TARGET ${item})
        continue()  # a system library or a linker flag
      endif()
      get_target_property(aliased ${item} ALIASED_TARGET)
      set(library ${item})
      if(aliased)
        set(library ${aliased})
      endif()
      get_target_property(imported ${library} IMPORTED)
      if(imported)
        continue()
      endif()
      get_target_property(lib_dir ${library} SOURCE_DIR)
      _rustyolo_layer_of(${lib_dir} lib_folder)
      _rustyolo_link_problem("${folder}" "${lib_folder}" problem)
      if(problem STREQUAL "")
        continue()
      endif()
      string(APPEND errors "\n  ${target} (${folder}) links ${library} (${lib_folder}): ${problem}")
    endforeach()
  endforeach()

  if(errors)
    message(FATAL_ERROR "plugin layering: targets under plugins/ and agents/ link what they may not "
                        "(cmake/RustyoloLayering.cmake says the rule):${errors}")
  endif()
endfunction()
