/*
** nn/lua/lnn.c: luaopen_nn. Builds the table of C functions, then runs the Lua half,
** stdlib/nn/init.lua, with the table as its argument.
**
** stdlib is found next to the code: the binary (build/relua) or module (build/nn.so) that
** holds this function lives in build/ (or build/asan/), so stdlib is the nearest stdlib/
** above it (installed: PREFIX/share/relua/stdlib); RELUA_STDLIB overrides.
** stdlib goes first on package.path, so `require "nn.optim"` finds stdlib/nn/optim.lua.
** The table is made once per Lua state: a second require (busted resets package.loaded
** between files) gets the same table back.
*/
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "nn/lua/lnn.h"
#include "nn/lua/lnn_capi.h"

/* The nearest <ancestor of file>/stdlib holding nn/init.lua, into out: in the source tree
   build/relua and build/asan/relua find ./stdlib; installed (make install), PREFIX/bin/relua
   and PREFIX/lib/lua/5.4/nn.so find PREFIX/share/relua/stdlib; installed by LuaRocks, the
   stdlib is TREE/lib/lua/5.4/relua/stdlib, beside nn.so. */
static bool stdlib_beside(const char *file, char *out) {
  static const char *const places[] = {"/stdlib", "/share/relua/stdlib", "/relua/stdlib",
                                       "/lib/lua/5.4/relua/stdlib"};
  char dir[PATH_MAX], guess[PATH_MAX + 16];
  if (!realpath(file, dir)) return false;
  for (int up = 0; up < 4; up++) {
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return false;
    *slash = 0;
    for (int k = 0; k < 4; k++) {
      size_t n = strlen(dir), m = strlen(places[k]);
      if (n + m >= PATH_MAX) continue;
      memcpy(out, dir, n);
      memcpy(out + n, places[k], m + 1);
      snprintf(guess, sizeof guess, "%s/nn/init.lua", out);
      if (access(guess, R_OK) == 0) return true;
    }
  }
  return false;
}

/* The file holding this code: build/relua, or build/nn.so under stock lua5.4. */
static bool own_file(char *out) {
  Dl_info info;
  if (dladdr((void *)luaopen_nn, &info) && info.dli_fname && strchr(info.dli_fname, '/'))
    return realpath(info.dli_fname, out) != NULL;
  ssize_t n = readlink("/proc/self/exe", out, PATH_MAX - 1);
  if (n <= 0) return false;
  out[n] = 0;
  return true;
}

/* Where stdlib is, or false when it cannot be found. */
static bool find_stdlib(char *out) {
  const char *env = getenv("RELUA_STDLIB");
  if (env && *env) {
    snprintf(out, PATH_MAX, "%s", env);
    return true;
  }
  char file[PATH_MAX];
  return own_file(file) && stdlib_beside(file, out);
}

/* package[field] = entries .. package[field], unless entries are there already. */
static void prepend(lua_State *L, const char *field, const char *entries) {
  if (lua_getglobal(L, "package") != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  lua_getfield(L, -1, field);
  const char *old = lua_tostring(L, -1);
  if (!old || !strstr(old, entries)) {
    lua_pushfstring(L, "%s%s", entries, old ? old : "");
    lua_setfield(L, -3, field);
  }
  lua_pop(L, 2);
}

/* Modules built beside this one (build/viz.so) load with require, from relua or lua5.4. */
static void prepend_cpath(lua_State *L) {
  char file[PATH_MAX];
  if (!own_file(file)) return;
  char *slash = strrchr(file, '/');
  if (!slash) return;
  *slash = 0;
  lua_pushfstring(L, "%s/?.so;", file);
  prepend(L, "cpath", lua_tostring(L, -1));
  lua_pop(L, 1);
}

/* package.loaded.nn = the value on top (kept), so init.lua's requires of "nn" find it. */
static void set_loaded(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "nn");
  lua_pop(L, 1);
}

/* A failed init.lua leaves no half-made module behind: the next require tries again. */
static int unload(lua_State *L) {
  lua_pushnil(L);
  set_loaded(L);
  lua_pop(L, 1);
  return lua_error(L);
}

/* Runs <stdlib>/nn/init.lua with the nn table (on top) as its argument. */
static void load_stdlib(lua_State *L) {
  char dir[PATH_MAX];
  if (!find_stdlib(dir)) return; /* the C functions work without their Lua half */
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", dir, dir);
  prepend(L, "path", lua_tostring(L, -1));
  lua_pop(L, 1);
  prepend_cpath(L);
  lua_pushfstring(L, "%s/nn/init.lua", dir);
  const char *init = lua_tostring(L, -1);
  if (access(init, R_OK) != 0) {
    lua_pop(L, 1);
    return;
  }
  if (luaL_loadfile(L, init) != LUA_OK) unload(L);
  lua_pushvalue(L, -3);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) unload(L);
  if (lua_istable(L, -1))
    lua_replace(L, -3); /* init.lua may return its own table */
  else
    lua_pop(L, 1);
  lua_pop(L, 1); /* the path */
}

int luaopen_nn(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, "nn.module") == LUA_TTABLE &&
      lua_getfield(L, LUA_REGISTRYINDEX, "nn.ready") == LUA_TBOOLEAN) {
    lua_pop(L, 1);
    set_loaded(L);
    return 1;
  }
  lua_settop(L, 0);
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "nn.module");
  lnn_open_docs(L);
  lnn_open_tensor(L);
  lnn_open_create(L);
  lnn_open_shape(L);
  lnn_open_math(L);
  lnn_open_reduce(L);
  lnn_open_index(L);
  lnn_open_linalg(L);
  lnn_open_autograd(L);
  lnn_open_hooks(L);
  lnn_open_nnfunc(L);
  lnn_open_conv(L);
  lnn_open_scan(L);
  lnn_open_recurrent(L);
  lnn_open_io(L);
  lnn_open_util(L);
  lnn_open_stats(L);
  lnn_open_rules(L);
  lnn_open_ops(L);
  lnn_open_extra(L);
  lnn_open_pool(L);
  lnn_open_act(L);
  lnn_capi_register(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "nn.docs");
  lua_setfield(L, -2, "_docs");
  set_loaded(L);
  load_stdlib(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "nn.module");
  set_loaded(L);
  lua_pushboolean(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "nn.ready");
  return 1;
}
