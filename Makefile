# The two commands of the quick start. Both install what is missing, build
# into build/ (the binary is build/tcpscope), then do their job.
BUILD_DIR ?= build
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 10
JOBS ?= $(shell nproc)

# Which packages `deps` installs: the demo needs only what builds the tool
# and runs a scenario; everything else installs what the tests use too.
DEPS_SET ?= all

.PHONY: demo test test-kernels test-deploy deb image configure build deps clean fuzz

# The demo needs only the tool and the scenario programs, not the tests (nor
# the browser, qemu and Prometheus the tests install).
demo: DEPS_SET = build
demo: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target tcpscope scenario_programs
	./$(BUILD_DIR)/tcpscope run zero-byte-send

# Unit, kernel and scenario tiers on this kernel, the kernel and scenario
# tiers again on Debian's 6.1 and 6.12 under qemu, then a short run of every
# fuzz target and the Debian package in a Debian 12 guest with systemd,
# side by side (the guest's qemu is one host thread, and its image mostly
# waits on the network, while the fuzzers compile). The tests that touch
# the kernel are RUN_SERIAL, so -j runs only the pure ones (the unit tier,
# the package build) side by side.
test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)
	$(MAKE) test-kernels
	$(MAKE) --output-sync=target -j2 test-deploy fuzz

# The kernel and scenario tiers on Debian's own 6.1 and 6.12 kernels, each
# booted under qemu (tests/kernels/run_matrix.py; the packages are cached in
# $(BUILD_DIR)/kernels). The host's kernel is covered by ctest above.
test-kernels: build
	python3 tests/kernels/run_matrix.py $(BUILD_DIR)

# The Debian package installed with apt in a real Debian 12 (debootstrap,
# systemd as init) booted on Debian's 6.1 and 6.12 kernels under qemu, its service
# started, scraped and stopped there (tests/deploy/debian_guest.py; the
# image is cached in $(BUILD_DIR)/deploy).
test-deploy: build
	python3 tests/deploy/debian_guest.py $(BUILD_DIR)

# The Debian package, build/tcpscope_<version>_amd64.deb (docs/packaging.md):
# debhelper packages the build tree as it is; only the binary and the man
# pages are brought up to date, so after `make build` nothing is compiled.
deb: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target tcpscope tcpscope_manual_files
	./packaging/build-deb.sh $(BUILD_DIR)

# The container image (docs/packaging.md): that package installed with apt
# on a Debian 12 minbase made here by debootstrap (nothing pulled from a
# registry; the base is kept in build/image/base.tar and made only when
# missing), built with buildah: localhost/tcpscope:<version> in local storage
# and build/tcpscope-image_<version>.oci.tar. Needs root.
image: deb
	./packaging/image/build-image.sh $(BUILD_DIR)

# The libFuzzer targets need their own clang-instrumented build.
fuzz: deps
	cmake -S . -B $(FUZZ_DIR) -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
		-DTCPSCOPE_FUZZ=ON -DTCPSCOPE_BUILD_TESTS=OFF -DTCPSCOPE_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_filter_options fuzz_decode_event \
		fuzz_step_json fuzz_cli
	ctest --test-dir $(FUZZ_DIR) -L fuzz --output-on-failure

configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

deps:
	./tools/install-deps.sh $(DEPS_SET)

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR)
