-- LuaRocks: `luarocks make` in the source tree builds with the Makefile and installs relua,
-- nn.so, viz.so and the Lua half of nn (beside nn.so, where it finds it). The C libraries
-- come from Debian (make deps): liblua5.4-dev, libopenblas-dev, libsdl2-dev, ...
package = "relua"
version = "scm-1"
source = {url = "git+file://."}
description = {
  summary = "An interactive REPL and scripting language for neural nets",
  detailed = "Lua 5.4 with C tensors, autograd, modules, optimizers, recurrences, learning "
    .. "rules and an SDL2 live view (the nn and viz modules, and the relua host).",
}
dependencies = {"lua >= 5.4, < 5.5"}
build = {
  type = "make",
  build_target = "all",
  build_variables = {BUILD = "build/rock"},
  install_target = "install",
  install_variables = {
    BUILD = "build/rock", PREFIX = "$(PREFIX)", BINDIR = "$(BINDIR)", LIBDIR = "$(LIBDIR)",
    STDLIB = "$(LIBDIR)/relua/stdlib", MAN1 = "$(PREFIX)/man/man1",
  },
}
