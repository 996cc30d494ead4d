// Compiled as part of a pure layer by the layers.* tests: must not build.
#include <bpf/libbpf.h>

int probe() { return libbpf_major_version(); }
