/*
** nn/lua/lcapi.c: publishes the binding's C API (lnn_capi.h) in the Lua registry, so that
** C modules that are not linked with the nn core (viz) can read tensors.
*/
#include "nn/lua/lnn_capi.h"
#include "nn/lua/lnn.h"

/* One instance per copy of the binding: relua and nn.so each have their own, and each
   state gets the one of the binding that opened nn in it. */
static const lnn_capi capi = {
    .version = LNN_CAPI_VERSION,
    .check = lnn_check,
    .test = lnn_test,
};

void lnn_capi_register(lua_State *L) {
  lua_pushlightuserdata(L, (void *)&capi);
  lua_setfield(L, LUA_REGISTRYINDEX, LNN_CAPI_KEY);
}
