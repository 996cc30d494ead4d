# Every dependency comes from a Debian package; when one is missing, say
# which package provides it instead of failing somewhere later.
find_package(PkgConfig)
if(NOT PkgConfig_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

function(tcpscope_require_pkg prefix module package)
  pkg_check_modules(${prefix} IMPORTED_TARGET ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "${module} not found: apt-get install ${package}")
  endif()
endfunction()

tcpscope_require_pkg(LIBBPF libbpf libbpf-dev)
tcpscope_require_pkg(LIBELF libelf libelf-dev)
tcpscope_require_pkg(ZLIB zlib zlib1g-dev)

find_package(CLI11 CONFIG QUIET)
if(NOT CLI11_FOUND)
  message(FATAL_ERROR "CLI11 not found: apt-get install libcli11-dev")
endif()
find_package(nlohmann_json CONFIG QUIET)
if(NOT nlohmann_json_FOUND)
  message(FATAL_ERROR "nlohmann_json not found: apt-get install nlohmann-json3-dev")
endif()
find_package(GTest CONFIG QUIET)
if(NOT GTest_FOUND)
  message(FATAL_ERROR "GoogleTest not found: apt-get install libgtest-dev")
endif()

find_program(BPF_CLANG clang)
if(NOT BPF_CLANG)
  message(FATAL_ERROR "clang not found (it compiles the BPF objects): apt-get install clang")
endif()
find_program(BPFTOOL bpftool PATHS /usr/sbin /usr/local/sbin)
if(NOT BPFTOOL)
  message(FATAL_ERROR "bpftool not found (it generates the skeletons): apt-get install bpftool")
endif()
find_package(Threads REQUIRED)

# `tcpscope metrics`: prometheus-cpp's core for the metric model and the
# text format, cpp-httplib for the HTTP server (both Debian packages).
tcpscope_require_pkg(PROMETHEUS_CORE prometheus-cpp-core prometheus-cpp-dev)
tcpscope_require_pkg(HTTPLIB cpp-httplib libcpp-httplib-dev)
# `tcpscope metrics --web.config.file`: TLS through OpenSSL (the library
# Debian's cpp-httplib is built against), the exporter-toolkit's YAML
# format through yaml-cpp, bcrypt password hashes through libxcrypt's
# crypt_rn ($2a$/$2b$/$2y$).
tcpscope_require_pkg(OPENSSL openssl libssl-dev)
tcpscope_require_pkg(YAMLCPP yaml-cpp libyaml-cpp-dev)
tcpscope_require_pkg(LIBXCRYPT libxcrypt libcrypt-dev)
