# tcpscope_bpf_skeleton(<target> SOURCE <x.bpf.c> HEADERS <h>...)
# Compiles one BPF program with clang against vmlinux/vmlinux.h and turns
# the object into <name>.skel.h with bpftool, inside the build tree. The
# result is an INTERFACE target that carries the include path and libbpf.
# A function (not a macro) so that its variables stay local to each call.
function(tcpscope_bpf_skeleton target)
  cmake_parse_arguments(ARG "" "SOURCE" "HEADERS" ${ARGN})
  get_filename_component(stem ${ARG_SOURCE} NAME_WE)
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_SOURCE})
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${stem}.bpf.o)
  set(skel ${CMAKE_CURRENT_BINARY_DIR}/${stem}.skel.h)

  # clang -target bpf does not search the host's system include dirs; pass
  # the ones the host compiler uses so that <asm/...> headers resolve.
  execute_process(COMMAND ${BPF_CLANG} -v -E - INPUT_FILE /dev/null
                  OUTPUT_QUIET ERROR_VARIABLE clang_verbose)
  string(REGEX MATCH "#include <...> search starts here:\n(.*)End of search list"
         _ "${clang_verbose}")
  string(REGEX REPLACE "\n *" ";" sys_dirs "${CMAKE_MATCH_1}")
  set(sys_includes "")
  foreach(dir IN LISTS sys_dirs)
    if(dir)
      list(APPEND sys_includes -idirafter ${dir})
    endif()
  endforeach()

  set(libbpf_includes "")
  foreach(dir IN LISTS LIBBPF_INCLUDE_DIRS)
    list(APPEND libbpf_includes -isystem ${dir})
  endforeach()

  set(deps ${src})
  foreach(h IN LISTS ARG_HEADERS)
    list(APPEND deps ${CMAKE_CURRENT_SOURCE_DIR}/${h})
  endforeach()

  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -Wall -target bpf -D__TARGET_ARCH_x86
            -I${CMAKE_SOURCE_DIR}/vmlinux -I${CMAKE_CURRENT_SOURCE_DIR}
            ${libbpf_includes} ${sys_includes}
            -c ${src} -o ${obj}
    DEPENDS ${deps} ${CMAKE_SOURCE_DIR}/vmlinux/vmlinux.h
    COMMENT "BPF object ${stem}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${stem}_bpf > ${skel}
    DEPENDS ${obj}
    COMMENT "BPF skeleton ${stem}.skel.h"
    VERBATIM)
  add_custom_target(${target}_gen DEPENDS ${skel})

  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}_gen)
  target_include_directories(${target} INTERFACE ${CMAKE_CURRENT_BINARY_DIR}
                             ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${target} INTERFACE PkgConfig::LIBBPF PkgConfig::LIBELF PkgConfig::ZLIB)
endfunction()
