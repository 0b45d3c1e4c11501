# maillage — the two commands of the README, and a few more for developers.
#   make demo    build, create the demo database, serve it on http://127.0.0.1:8080/
#   make check   install what tests need, build under ASan+UBSan, run every test
.POSIX:
.PHONY: all build demo check deps test-deps format lint clean

BUILD ?= build
CHECK_BUILD ?= build/check
DEMO_DB ?= maillage-demo.db
LISTEN ?= 127.0.0.1:8080
JOBS ?= 2

all: build

deps:
	@./scripts/bootstrap.sh

test-deps:
	@./scripts/bootstrap.sh --test
	@[ -d node_modules/playwright-core ] || npm ci --no-fund --no-audit

# The binary: build/maillage (release flags, warnings as errors).
build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target maillage

demo: build
	@./$(BUILD)/maillage demo --db $(DEMO_DB) --force
	@echo "Ouvrez l'adresse ci-dessous ; arrêt par Ctrl+C."
	@./$(BUILD)/maillage serve --db $(DEMO_DB) --listen $(LISTEN)

check: test-deps
	@cmake -S . -B $(CHECK_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMAILLAGE_SANITIZE=ON -DBUILD_TESTING=ON >/dev/null
	@cmake --build $(CHECK_BUILD) -j $(JOBS)
	@cd $(CHECK_BUILD) && ctest --output-on-failure --timeout 600

format:
	clang-format -i src/*.c src/*.h tests/*.c tests/*.h

lint:
	@cmake -S . -B $(BUILD) -DBUILD_TESTING=OFF >/dev/null
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem --include=/usr/include/jansson.h -I src src
	clang-tidy -p $(BUILD) --quiet src/*.c

clean:
	rm -rf $(BUILD)
