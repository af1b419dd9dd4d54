/*
** tests/fuzz/fuzz_csv.c: nn.data.csv (stdlib/nn/data.lua, run by the nn binding) on any
** bytes. The first byte picks the options: header or not, the separator and the dtype. An
** error is the expected answer to most inputs; only a crash, a leak or a sanitizer report
** is a finding. One Lua state serves every input.
*/
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "nn/lua/lnn.h"
#include "tests/fuzz/fuzz.h"

static lua_State *L;

static void close_state(void) {
  lua_close(L);
}

static void open_state(void) {
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "nn", luaopen_nn, 1);
  lua_pop(L, 1);
  atexit(close_state);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const seps[] = {",", ";", "\t", " "};
  static const char *const dtypes[] = {"f32", "f64", "i64", "u8"};
  if (size < 1) return 0;
  if (!L) open_state();
  unsigned opts = data[0];
  const char *path = fuzz_file(data + 1, size - 1);
  lua_getglobal(L, "nn");
  lua_getfield(L, -1, "data");
  lua_getfield(L, -1, "csv");
  lua_pushstring(L, path);
  lua_createtable(L, 0, 3);
  lua_pushboolean(L, opts & 1);
  lua_setfield(L, -2, "header");
  lua_pushstring(L, seps[(opts >> 1) & 3]);
  lua_setfield(L, -2, "sep");
  lua_pushstring(L, dtypes[(opts >> 3) & 3]);
  lua_setfield(L, -2, "dtype");
  lua_pcall(L, 2, 2, 0);
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT);
  return 0;
}
