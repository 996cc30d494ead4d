# Sourced by the scenario tests: BPF links left behind, told apart from the
# links of tracers that other tests or people run on the same machine.
#
# A link lives while a descriptor of it is open or it is pinned. Once
# tcpscope has exited, a link it made that is still listed and that no
# process holds is one it left behind. A system-wide count would also see
# another tracer that started meanwhile.

# Every link's id, one per line.
bpf_link_ids() {
  bpftool link list 2>/dev/null | sed -n 's/^\([0-9][0-9]*\):.*/\1/p'
}

# The ids of the links some process holds a descriptor of.
held_bpf_link_ids() {
  grep -h '^link_id:' /proc/[0-9]*/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u
}

# Links listed now, not in $1 (the ids listed before), that no process holds.
# A link whose last descriptor was just closed can still be listed for a
# moment (the kernel frees it from a work queue): asked twice, a second apart.
orphan_bpf_links() {
  _before=$1
  for _try in 1 2; do
    _held=$(held_bpf_link_ids)
    _orphans=""
    for _id in $(bpf_link_ids); do
      printf '%s\n' "$_before" | grep -qx "$_id" && continue
      printf '%s\n' "$_held" | grep -qx "$_id" && continue
      _orphans="$_orphans $_id"
    done
    [ -z "$_orphans" ] && return 0
    sleep 1
  done
  echo "$_orphans"
}
