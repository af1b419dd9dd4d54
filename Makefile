# relua: one Makefile, everything built under build/.
#   make            build build/relua, build/nn.so, build/viz.so (and build/dist.so, nn.dist's
#                   MPI half, when Open MPI is installed)
#   make run        install missing deps, build, run scripts/demo.lua
#   make test       install missing deps, build, run every test suite
#   make bench      relua vs PyTorch, ratios
#   make asan       ASan+UBSan build of everything, and its tests
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
override CFLAGS += -std=c11 -D_GNU_SOURCE -fvect-cost-model=dynamic -fno-math-errno \
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
VIZ_LIBS := $(shell pkg-config --libs sdl2 SDL2_ttf libpng 2>/dev/null || echo -lSDL2 -lSDL2_ttf -lpng16) -lm

.PHONY: all run test bench asan clean deps format install uninstall
all: $(BUILD)/relua $(BUILD)/nn.so $(BUILD)/test_core $(if $(VIZ_SRC),$(BUILD)/viz.so) \
     $(if $(DIST_SRC),$(BUILD)/dist.so) $(BUILD)/relua.1

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

# Dependencies: `make deps` installs what is missing (a quick dpkg check when nothing is).
deps:
	@missing=""; for p in $(DEPS) $(DEPS_PY); do \
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

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" all
	@ASAN_OPTIONS=detect_leaks=0 RELUA_ASAN=1 bash tests/run build/asan

format:
	clang-format -i $(CORE_SRC) $(BIND_SRC) $(VM_SRC) $(CTEST_SRC) $(VIZ_SRC) \
	  $(wildcard dist/*.c) $(wildcard nn/*.h nn/ops/*.h nn/lua/*.h vm/*.h viz/*.h dist/*.h tests/c/*.h)

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
  $(DIST_OBJ:.o=.d)
