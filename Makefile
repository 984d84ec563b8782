# The two commands: `make run` and `make test`. Everything else is a helper.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= 2
# Tests at once: most of a test's time is spent waiting on a schedule (the
# whole suite uses under a core on average), so four share two cores well.
# The browser tests take turns, and the longest tests start first (tests/CMakeLists.txt).
TEST_JOBS ?= 4

.PHONY: all deps build run test asan-test tsan-test chaos property memcheck fuzz bench clean lint \
	image image-test compose-up compose-down

all: build

deps:
	@./scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# make run builds only what `dts up` needs (the dts binary and the web assets
# it embeds), not the tests, fuzzers and benchmarks, and prints only progress.
run: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@echo "building dts"
	@./scripts/build-quiet.sh $(BUILD) dts $(JOBS)
	@./$(BUILD)/dts up $(ARGS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(TEST_JOBS) $(CTEST_ARGS)

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer (but the
# image test: images are never built sanitized). Every dts process writes its
# reports to files, so a report from a process the test killed still fails
# the run.
SANITIZER_LOGS = $(CURDIR)/$(ASAN_BUILD)/sanitizer-reports
asan-test: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DDTS_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	@rm -rf $(SANITIZER_LOGS) && mkdir -p $(SANITIZER_LOGS)
	cd $(ASAN_BUILD) && DTS_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1:log_path=$(SANITIZER_LOGS)/asan \
	  UBSAN_OPTIONS=print_stacktrace=1:log_path=$(SANITIZER_LOGS)/ubsan \
	  ctest --output-on-failure -j$(TEST_JOBS) -E 'test_image|fuzz' $(CTEST_ARGS)
	@if [ -n "$$(ls -A $(SANITIZER_LOGS))" ]; then \
	  echo "sanitizer reports:"; head -50 $(SANITIZER_LOGS)/*; exit 1; fi

# The Docker image (deploy/Dockerfile) and Redis's, from debian bases made with
# debootstrap where no image registry is reachable; uses the engine DOCKER_HOST
# names (or the default one).
image:
	deploy/base-image.sh
	deploy/build-image.sh

# The real image test (CI runs it after make test): installs Docker's Debian
# packages if missing, starts a private bridge-less dockerd if none answers
# (and stops it after), builds the images and runs the system from them through
# deploy/compose.yaml on the host network (tests/image/test_compose.py).
image-test:
	./scripts/image-test.sh

# The whole system in containers: Redis, 2 api, 2 schedulers, 2 executors, 2 web.
compose-up: image
	deploy/compose.sh up

compose-down:
	deploy/compose.sh down

# ThreadSanitizer over the threaded roles' integration tests (executor, api, web).
tsan-test: deps
	DTS_SANITIZED=1 JOBS=$(JOBS) tests/chaos/tsan.sh $(CURDIR)/build-tsan

# The long fault-injection run (2 minutes of kill -9, a Redis crash, a stalled
# executor and a partitioned scheduler); make test runs a short form.
chaos: build
	DTS_BIN=$(CURDIR)/$(BUILD)/dts /usr/bin/python3 tests/chaos/chaos.py --kill-seconds 120 $(CHAOS_ARGS)

# The long property test over ordinary operations (10 minutes of pause, resume,
# edit, trigger, delete, run-now and role kills on a skewed fleet); make test
# runs a short form. PROPERTY_ARGS="--seed N" replays a run.
PROPERTY_SECONDS ?= 600
property: build
	DTS_BIN=$(CURDIR)/$(BUILD)/dts /usr/bin/python3 tests/chaos/property.py --seconds $(PROPERTY_SECONDS) $(PROPERTY_ARGS)

# valgrind's memcheck over the api and executor in a few integration tests
# (a report, not a gate: a few tests time out under valgrind's slowness).
memcheck: build
	@command -v valgrind >/dev/null || apt-get install -y -qq valgrind >/dev/null
	DTS_REAL_BIN=$(CURDIR)/$(BUILD)/dts DTS_BIN=$(CURDIR)/tests/chaos/memcheck.sh /usr/bin/python3 tests/chaos/memcheck.py

# The benchmark suite (issue 6): writes bench/RESULTS.md and its plots.
bench: build
	./scripts/deps.sh bench
	./bench/run.sh

# A long fuzzing run of the cron parser and next() (ctest runs each briefly).
FUZZ_SECONDS ?= 3600
fuzz: build
	mkdir -p $(BUILD)/fuzz-corpus
	./$(BUILD)/tests/fuzz/fuzz_cron -max_total_time=$(FUZZ_SECONDS) -timeout=10 -jobs=$(JOBS) \
	  -dict=tests/fuzz/cron.dict $(BUILD)/fuzz-corpus tests/fuzz/seeds

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# Style and static checks over src/ and tests/unit, in check mode (nothing is
# rewritten): clang-format with .clang-format, then clang-tidy with
# .clang-tidy over the build's compile_commands.json. Both run; the target
# fails if either finds anything.
LINT_C = $(wildcard src/*.c src/lib/*.c tests/unit/*.c)
LINT_H = $(wildcard src/*.h src/lib/*.h)
lint:
	@./scripts/deps.sh lint
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) --target dts_build_info >/dev/null
	@rc=0; \
	clang-format --dry-run --Werror $(LINT_C) $(LINT_H) || rc=1; \
	echo $(LINT_C) | tr ' ' '\n' | xargs -P$(JOBS) -n8 clang-tidy -p $(BUILD) --quiet \
	  --extra-arg=-Wno-unknown-warning-option || rc=1; \
	exit $$rc
