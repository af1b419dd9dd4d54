# relua: one Makefile, everything built under build/.
#   make            build build/relua, build/nn.so, build/viz.so (and build/dist.so, nn.dist's
#                   MPI half, when Open MPI is installed)
#   make run        install missing deps, build, run scripts/demo.lua
#   make test       install missing deps, build, run every test suite
#   make bench      relua vs PyTorch, ratios
#   make asan       ASan+UBSan build of everything, and its tests
#   make memcheck   valgrind memcheck on the C unit tests: no invalid access, no definite leak
#   make fuzz       FUZZ=NAME [FUZZ_TIME=600]: libFuzzer on one parser (clang), see tests/fuzz
#   make deps       apt-get the Debian packages relua needs (sudo when not root)
#   make install    PREFIX=/usr/local DESTDIR=: relua, nn.so, viz.so (dist.so) where lua5.4 finds
#                   them, the stdlib, the man page; make uninstall takes them away

BUILD   ?= build
# parallel by default, one job per core (make -j1 to override)
NPROC   := $(shell nproc 2>/dev/null || echo 2)
MAKEFLAGS += -j$(NPROC)
CC      ?= cc
PKGS    := lua5.4 libcjson zlib libpng
CFLAGS  ?= -O2 -g
# The math flags change no result: relua never reads errno after math calls nor enables
# floating-point traps, and without them GCC keeps calls and branches out of vector loops.
# (-fvect-cost-model is GCC's: the clang builds of `make fuzz` go without it.)
VECT_COST := $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null)),,-fvect-cost-model=dynamic)
override CFLAGS += -std=c11 -D_GNU_SOURCE $(VECT_COST) -fno-math-errno \
           -fno-trapping-math -Wall -Wextra -fPIC -MMD -MP -I. \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CORE_LIBS := -lopenblas -lcjson -lz -lm -lpthread -ldl
LUA_LIBS  := $(shell pkg-config --libs lua5.4 2>/dev/null || echo -llua5.4)

# Debian packages: build and run (DEPS), parity tests and reference benchmarks (DEPS_PY).
DEPS    := build-essential pkg-config lua5.4 liblua5.4-dev libreadline-dev libopenblas-dev \
           libsdl2-dev libsdl2-ttf-dev fonts-dejavu-core zlib1g-dev libpng-dev libcjson-dev \
           lua-busted dataset-fashion-mnist python3 tmux xvfb xauth \
           libopenmpi-dev openmpi-bin
DEPS_PY := python3-torch python3-numpy hyperfine
# Beyond make test: make memcheck needs valgrind, make fuzz clang (.ci/run asks for valgrind
# with `make deps DEPS_EXTRA=valgrind`).
DEPS_EXTRA ?=

CORE_SRC := $(wildcard nn/*.c nn/ops/*.c)
BIND_SRC := $(wildcard nn/lua/*.c)
VM_SRC   := $(wildcard vm/*.c)
CTEST_SRC := $(wildcard tests/c/*.c)
VIZ_SRC  := $(wildcard viz/*.c)
# nn.dist's C half, built when Open MPI is installed (without it, nn.dist is a world of one)
MPI_CFLAGS := $(shell pkg-config --cflags ompi-c 2>/dev/null)
MPI_LIBS   := $(shell pkg-config --libs ompi-c 2>/dev/null)
DIST_SRC := $(if $(MPI_LIBS),$(wildcard dist/*.c))

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
BIND_OBJ := $(BIND_SRC:%.c=$(BUILD)/%.o)
VM_OBJ   := $(VM_SRC:%.c=$(BUILD)/%.o)
CTEST_OBJ := $(CTEST_SRC:%.c=$(BUILD)/%.o)
VIZ_OBJ  := $(VIZ_SRC:%.c=$(BUILD)/%.o)
DIST_OBJ := $(DIST_SRC:%.c=$(BUILD)/%.o)

# Fuzz targets (tests/fuzz/fuzz_NAME.c), one per parser. The normal build links each with
# replay.c into $(BUILD)/fuzz_NAME, which `make test` runs on the stored corpus; `make fuzz`
# builds them with clang's libFuzzer (FUZZ_MAIN empty) and runs one.
FUZZ_TARGETS := safetensors idx npy csv chunk
FUZZ_MAIN ?= $(BUILD)/tests/fuzz/replay.o
FUZZ_BIN := $(FUZZ_TARGETS:%=$(BUILD)/fuzz_%)
FUZZ_OBJ := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/fuzz_%.o) $(BUILD)/tests/fuzz/fuzz_file.o \
            $(BUILD)/tests/fuzz/replay.o
FUZZ_TIME ?= 600

# The files with AVX2 clones (VECTOR_CLONES), built again with the default clone alone:
# $(BUILD)/test_noclone runs the f32 math tests on the code the loader does not pick here.
CLONE_SRC := $(shell grep -l 'pointwise.h\|VECTOR_CLONES\|recurrent_cell.h' $(CORE_SRC))
CLONE_OBJ := $(CLONE_SRC:%.c=$(BUILD)/noclone/%.o)
.SECONDARY: $(FUZZ_OBJ) # made by pattern rules: kept, not deleted as intermediates
VIZ_LIBS := $(shell pkg-config --libs sdl2 SDL2_ttf libpng 2>/dev/null || echo -lSDL2 -lSDL2_ttf -lpng16) -lz -lm

.PHONY: all run test bench asan memcheck fuzz clean deps format install uninstall
all: $(BUILD)/relua $(BUILD)/nn.so $(BUILD)/test_core $(if $(VIZ_SRC),$(BUILD)/viz.so) \
     $(if $(DIST_SRC),$(BUILD)/dist.so) $(BUILD)/relua.1 $(FUZZ_BIN) $(BUILD)/test_noclone

$(BUILD)/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libnn.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The host: nn and its binding linked in; -rdynamic so C modules loaded by require
# (lfs, lpeg, ...) find the Lua API in the executable as they would in lua5.4.
$(BUILD)/relua: $(VM_OBJ) $(BIND_OBJ) $(BUILD)/libnn.a
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(VM_OBJ) $(BIND_OBJ) $(BUILD)/libnn.a \
	  $(LUA_LIBS) -lreadline $(CORE_LIBS)

# The module for stock lua5.4 (and busted): the Lua API comes from the interpreter.
$(BUILD)/nn.so: $(BIND_OBJ) $(BUILD)/libnn.a
	$(CC) $(LDFLAGS) -shared -o $@ $(BIND_OBJ) $(BUILD)/libnn.a $(CORE_LIBS)

# The live view, a module of its own so that SDL is loaded only when a view is opened (the
# host starts in milliseconds). It reaches tensors through the nn binding's C API.
$(BUILD)/viz/%.o: CFLAGS += $(shell pkg-config --cflags sdl2 SDL2_ttf 2>/dev/null)
$(BUILD)/viz.so: $(VIZ_OBJ)
	$(CC) $(LDFLAGS) -shared -o $@ $(VIZ_OBJ) $(VIZ_LIBS)

# Data-parallel training (nn.dist), a module of its own so that neither relua nor nn.so
# depends on MPI: stdlib/nn/dist.lua loads it on first use. Tensors through the C API, too.
$(BUILD)/dist/%.o: CFLAGS += $(MPI_CFLAGS)
$(BUILD)/dist.so: $(DIST_OBJ)
	$(CC) $(LDFLAGS) -shared -o $@ $(DIST_OBJ) $(MPI_LIBS) -lpthread

# The man page, made from `relua --help` (one text for both).
$(BUILD)/relua.1: $(BUILD)/relua vm/relua.1.sh
	sh vm/relua.1.sh $(BUILD)/relua > $@.tmp && mv $@.tmp $@

$(BUILD)/test_core: $(CTEST_OBJ) $(BUILD)/libnn.a
	$(CC) $(LDFLAGS) -o $@ $(CTEST_OBJ) $(BUILD)/libnn.a $(CORE_LIBS)

$(BUILD)/noclone/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DNN_NO_CLONES -c $< -o $@

# The objects come before libnn.a, so its members of the same files are never pulled in.
$(BUILD)/test_noclone: $(BUILD)/tests/c/main.o $(BUILD)/tests/c/test_fastmath.o $(CLONE_OBJ) \
                       $(BUILD)/libnn.a
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/libnn.a $(CORE_LIBS)

# The chunk reader's target includes vm/repl.c itself (its functions are static).
$(BUILD)/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/fuzz_file.o $(FUZZ_MAIN) \
                 $(BIND_OBJ) $(BUILD)/vm/run.o $(BUILD)/vm/show.o $(BUILD)/libnn.a
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(filter %.o,$^) $(BUILD)/libnn.a $(LUA_LIBS) $(CORE_LIBS)

# Dependencies: `make deps` installs what is missing (a quick dpkg check when nothing is).
deps:
	@missing=""; for p in $(DEPS) $(DEPS_PY) $(DEPS_EXTRA); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all installed"; exit 0; fi; \
	echo "deps: installing$$missing"; \
	sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing

run: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/relua scripts/demo.lua

test: deps
	@$(MAKE) --no-print-directory all
	@bash tests/run $(BUILD)

bench: all
	@bash scripts/bench/run $(BUILD)

# ASan + UBSan (signed-integer-overflow is part of undefined; GCC leaves float-cast-overflow
# out of it, so it is named), every report fatal.
ASAN_SAN := -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all
asan:
	@$(MAKE) --no-print-directory BUILD=build/asan \
	  CFLAGS="-O1 -g -fno-omit-frame-pointer $(ASAN_SAN)" LDFLAGS="$(ASAN_SAN)" all
	@ASAN_OPTIONS=detect_leaks=0 RELUA_ASAN=1 bash tests/run build/asan

# valgrind on the C unit tests (the f32 sweeps take most of its time): any invalid access or
# definite leak fails it.
memcheck: all
	@command -v valgrind >/dev/null || { echo "make memcheck needs valgrind: make deps DEPS_EXTRA=valgrind"; exit 2; }
	valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	  --show-leak-kinds=definite $(BUILD)/test_core

# libFuzzer on one target, niced (the machine is shared): the stored corpus seeds a working
# copy in build/fuzz/corpus/NAME; what adds coverage is merged back into tests/fuzz/corpus,
# and a crashing input lands in build/fuzz/crashes/ (keep it in tests/fuzz/crashes/NAME).
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
fuzz:
	@test -n "$(FUZZ)" || { echo "make fuzz FUZZ=NAME, NAME one of: $(FUZZ_TARGETS)"; exit 2; }
	@command -v clang >/dev/null || { echo "make fuzz needs clang: make deps DEPS_EXTRA=clang"; exit 2; }
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang FUZZ_MAIN= \
	  CFLAGS="-O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	  LDFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer" build/fuzz/fuzz_$(FUZZ)
	@mkdir -p build/fuzz/corpus/$(FUZZ) build/fuzz/crashes tests/fuzz/corpus/$(FUZZ)
	cp -n tests/fuzz/corpus/$(FUZZ)/* build/fuzz/corpus/$(FUZZ)/ 2>/dev/null || true
	nice -n 19 build/fuzz/fuzz_$(FUZZ) -max_total_time=$(FUZZ_TIME) -rss_limit_mb=2048 \
	  -max_len=65536 -timeout=20 -artifact_prefix=build/fuzz/crashes/$(FUZZ)- -print_final_stats=1 \
	  $(if $(wildcard tests/fuzz/$(FUZZ).dict),-dict=tests/fuzz/$(FUZZ).dict) build/fuzz/corpus/$(FUZZ)
	nice -n 19 build/fuzz/fuzz_$(FUZZ) -merge=1 tests/fuzz/corpus/$(FUZZ) build/fuzz/corpus/$(FUZZ)

format:
	clang-format -i $(CORE_SRC) $(BIND_SRC) $(VM_SRC) $(CTEST_SRC) $(VIZ_SRC) \
	  $(wildcard dist/*.c) $(wildcard nn/*.h nn/ops/*.h nn/lua/*.h vm/*.h viz/*.h dist/*.h tests/c/*.h \
	  tests/fuzz/*.[ch])

# Installed: PREFIX/bin/relua, the C modules in PREFIX/lib/lua/5.4 (Debian's lua5.4 looks in
# /usr/local/lib/lua/5.4), the Lua half in PREFIX/share/relua/stdlib (nn.so and relua find
# it from where they are), the man page.
# (LuaRocks sets BINDIR, LIBDIR and STDLIB itself: see relua-scm-1.rockspec.)
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib/lua/5.4
STDLIB  ?= $(PREFIX)/share/relua/stdlib
MAN1    ?= $(PREFIX)/share/man/man1
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(MAN1)
	install -m 755 $(BUILD)/relua $(DESTDIR)$(BINDIR)/relua
	install -m 644 $(BUILD)/nn.so $(if $(VIZ_SRC),$(BUILD)/viz.so) $(if $(DIST_SRC),$(BUILD)/dist.so) \
	  $(DESTDIR)$(LIBDIR)/
	install -m 644 $(BUILD)/relua.1 $(DESTDIR)$(MAN1)/relua.1
	for f in $$(cd stdlib && find . -name '*.lua'); do \
	  install -D -m 644 stdlib/$$f $(DESTDIR)$(STDLIB)/$$f || exit 1; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/relua $(DESTDIR)$(LIBDIR)/nn.so $(DESTDIR)$(LIBDIR)/viz.so \
	  $(DESTDIR)$(LIBDIR)/dist.so $(DESTDIR)$(MAN1)/relua.1
	rm -rf $(DESTDIR)$(STDLIB)

clean:
	rm -rf $(BUILD)

-include $(CORE_OBJ:.o=.d) $(BIND_OBJ:.o=.d) $(VM_OBJ:.o=.d) $(CTEST_OBJ:.o=.d) $(VIZ_OBJ:.o=.d) \
  $(FUZZ_OBJ:.o=.d) $(CLONE_OBJ:.o=.d) $(DIST_OBJ:.o=.d)
