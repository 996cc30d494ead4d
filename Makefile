# The two commands of the quick start. Both install what is missing, build
# into build/ (the binary is build/tcpscope), then do their job.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)

.PHONY: demo test build deps clean

demo: build
	./$(BUILD_DIR)/tcpscope run zero-byte-send

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j $(JOBS)

deps:
	./tools/install-deps.sh

clean:
	rm -rf $(BUILD_DIR)
