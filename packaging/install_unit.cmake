# Run by `cmake --install` (packaging/CMakeLists.txt): installs
# tcpscope-metrics.service with ExecStart naming the binary where this very
# install puts it. The unit in the tree says /usr/local/bin/tcpscope (the
# default prefix), which is what an admin copying it by hand gets.
if(IS_ABSOLUTE "${TCPSCOPE_BINDIR}")
  set(bindir "${TCPSCOPE_BINDIR}")
else()
  set(bindir "${CMAKE_INSTALL_PREFIX}/${TCPSCOPE_BINDIR}")
endif()
if(IS_ABSOLUTE "${TCPSCOPE_UNIT_DIR}")
  set(unit_dir "${TCPSCOPE_UNIT_DIR}")
else()
  set(unit_dir "${CMAKE_INSTALL_PREFIX}/${TCPSCOPE_UNIT_DIR}")
endif()

file(READ "${TCPSCOPE_UNIT_SOURCE}" unit)
string(FIND "${unit}" "ExecStart=/usr/local/bin/tcpscope " at)
if(at EQUAL -1)
  # Never install a unit that starts something else than this binary.
  message(FATAL_ERROR "${TCPSCOPE_UNIT_SOURCE}: no 'ExecStart=/usr/local/bin/tcpscope ' to point at ${bindir}")
endif()
# ExecStart only: the comments keep telling how to install the unit by hand.
string(REPLACE "ExecStart=/usr/local/bin/tcpscope " "ExecStart=${bindir}/tcpscope " unit "${unit}")
file(WRITE "${TCPSCOPE_UNIT_STAGING}/tcpscope-metrics.service" "${unit}")
# file(INSTALL) honours DESTDIR and records the file in install_manifest.txt.
file(INSTALL DESTINATION "${unit_dir}" TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${TCPSCOPE_UNIT_STAGING}/tcpscope-metrics.service")
