#!/bin/sh
# /init of the kernel-matrix initramfs (PID 1 inside qemu; /bin/sh is dash,
# as on Debian: busybox's sh would run its own applets, e.g. an ip without
# netns, before the real tools).
# Mounts what the tests expect of a machine, loads the modules the kernel
# package ships as modules (veth, sock_diag), runs every test of the suite
# file that run_matrix.py wrote (the commands ctest would run), and prints
# machine-parsable lines on the serial console:
#   @@TSK BOOTED kernel=RELEASE uptime=SECONDS
#   @@TSK MODULE NAME ok|failed
#   @@TSK BEGIN NAME
#   ... the test's own output ...
#   @@TSK END NAME rc=N secs=S.SS
#   @@TSK DONE secs=S.SS
# then powers off. If anything goes wrong before DONE, the host's time limit
# and panic=-1 (with -no-reboot) end the machine.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
export LANG=C.UTF-8

mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/null >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
# What udev gives a Debian machine: scripts run through fexecve find
# themselves at /dev/fd/N.
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# A tmpfs on /tmp or /run would hide a build tree that lives there (a
# clone in /tmp, say): the image's root is writable already, so mount them
# only where the image put nothing.
for dir in /tmp /run; do
  mkdir -p "$dir"
  if [ -z "$(ls -A "$dir")" ]; then
    mount -t tmpfs -o mode=$([ "$dir" = /tmp ] && echo 1777 || echo 0755) tmpfs "$dir"
  fi
done
chmod 1777 /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null || echo "@@TSK NOTE no cgroup2"
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
ip link set lo up
hostname tcpscope-vm

conf=/etc/tcpscope-matrix
if [ -f "$conf/modules" ]; then
  while read -r mod; do
    [ -n "$mod" ] || continue
    if insmod "/usr/lib/modules/tcpscope/$mod.ko"; then
      echo "@@TSK MODULE $mod ok"
    else
      echo "@@TSK MODULE $mod failed"
    fi
  done < "$conf/modules"
fi

now() { cut -d' ' -f1 /proc/uptime; }
echo "@@TSK BOOTED kernel=$(uname -r) uptime=$(now) cpus=$(nproc)"

suite_start=$(now)
tab=$(printf '\t')
# name, time limit (s), working directory, command (shell words)
while IFS="$tab" read -r name limit dir cmd; do
  [ -n "$name" ] || continue
  echo "@@TSK BEGIN $name"
  start=$(now)
  ( cd "$dir" 2>/dev/null || cd /; eval "exec timeout -k 10 $limit $cmd" ) </dev/null
  rc=$?
  end=$(now)
  echo
  echo "@@TSK END $name rc=$rc secs=$(awk "BEGIN{printf \"%.2f\", $end - $start}")"
done < "$conf/suite.tsv"
echo "@@TSK DONE secs=$(awk "BEGIN{printf \"%.2f\", $(now) - $suite_start}")"
sync
poweroff -f
