# The layers of userspace/: one static library per folder, linked in the
# direction the data flows (kernel -> events -> correlate -> output, with
# the commands on top). A library declared PURE may link only pure
# libraries, and its sources cannot include libbpf: every libbpf header is
# shadowed, for its sources only, by one that stops the build with #error.
# Upward includes fail too, since a library sees only its own folder and
# the folders of what it links.

# The shadow headers, one per header libbpf-dev installs under <bpf/...>.
set(TCPSCOPE_NO_LIBBPF_DIR ${CMAKE_BINARY_DIR}/no_libbpf)
file(GLOB _libbpf_headers LIST_DIRECTORIES false "${LIBBPF_INCLUDEDIR}/bpf/*.h")
if(NOT _libbpf_headers)
  message(FATAL_ERROR "no libbpf headers under ${LIBBPF_INCLUDEDIR}/bpf: apt-get install libbpf-dev")
endif()
foreach(header IN LISTS _libbpf_headers)
  get_filename_component(name ${header} NAME)
  file(CONFIGURE OUTPUT ${TCPSCOPE_NO_LIBBPF_DIR}/bpf/${name}
       CONTENT "#error \"<bpf/${name}>: pure code must not use libbpf; only userspace/kernel/ may\"\n")
endforeach()

# Makes `target` (a library, test or probe) pure: no libbpf headers.
function(tcpscope_forbid_libbpf target)
  target_include_directories(${target} BEFORE PRIVATE ${TCPSCOPE_NO_LIBBPF_DIR})
endfunction()

# Fails the configure step when a pure target links something that is not.
function(tcpscope_check_pure_links target)
  foreach(dep IN LISTS ARGN)
    if(dep MATCHES "LIBBPF|LIBELF|tcpscope_skel")
      message(FATAL_ERROR "${target} is pure and must not link ${dep}")
    endif()
    if(dep MATCHES "^tcpscope_" AND TARGET ${dep} AND NOT dep STREQUAL "tcpscope_abi")
      get_target_property(dep_pure ${dep} TCPSCOPE_PURE)
      if(NOT dep_pure)
        message(FATAL_ERROR "${target} is pure and must not link ${dep}, which is not")
      endif()
    endif()
  endforeach()
endfunction()

# Fails the configure step when a layer links one not declared yet: the
# layers are declared bottom up (userspace/CMakeLists.txt), so each links
# only what is below it, and no two can link each other (no loop).
function(tcpscope_check_links_below target)
  foreach(dep IN LISTS ARGN)
    if(dep MATCHES "^tcpscope_" AND NOT TARGET ${dep})
      message(FATAL_ERROR "${target} links ${dep}, which is not declared below it: a layer links "
                          "only the layers under it (userspace/CMakeLists.txt's order)")
    endif()
  endforeach()
endfunction()

# tcpscope_layer(<target> [PURE] SOURCES <src>... LINK <lib>...)
function(tcpscope_layer target)
  cmake_parse_arguments(ARG "PURE" "" "SOURCES;LINK" ${ARGN})
  tcpscope_check_links_below(${target} ${ARG_LINK})
  add_library(${target} STATIC ${ARG_SOURCES})
  target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${target} PUBLIC ${ARG_LINK})
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  set_target_properties(${target} PROPERTIES TCPSCOPE_PURE ${ARG_PURE})
  if(ARG_PURE)
    tcpscope_check_pure_links(${target} ${ARG_LINK})
    tcpscope_forbid_libbpf(${target})
  endif()
endfunction()
