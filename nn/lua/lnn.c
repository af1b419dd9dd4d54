/* nn/lua/lnn.c: luaopen_nn (a placeholder until the binding lands). */
#include <lauxlib.h>

#include "nn/lua/lnn.h"

int luaopen_nn(lua_State *L) {
  lua_newtable(L);
  return 1;
}
