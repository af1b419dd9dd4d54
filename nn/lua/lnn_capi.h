/*
** nn/lua/lnn_capi.h: the nn binding's C API for other Lua C modules (viz).
**
** A module that reads tensors but must not link the nn core (build/viz.so is loaded next to
** build/nn.so, or into relua, and two copies of the core would disagree about everything)
** finds this table in the Lua registry, under LNN_CAPI_KEY, as a light userdata:
**
**   lua_getfield(L, LUA_REGISTRYINDEX, LNN_CAPI_KEY);
**   const lnn_capi *api = lua_touserdata(L, -1);      NULL until nn is loaded
**   if (api && api->version >= 1) t = api->test(L, idx);
**
** Users of the API read nn_tensor's fields (shape, stride, dtype, storage->data, offset)
** directly and call nothing else of the core. New members go at the end, with a new version.
*/
#ifndef LNN_CAPI_H
#define LNN_CAPI_H

#include <lua.h>

#include "nn/tensor.h"

#define LNN_CAPI_KEY     "nn.capi"
#define LNN_CAPI_VERSION 1

typedef struct lnn_capi {
  int version; /* LNN_CAPI_VERSION of the binding that made it */
  /* The tensor at idx; raises a Lua error when it is not a tensor. */
  nn_tensor *(*check)(lua_State *L, int idx);
  /* The tensor at idx, or NULL when idx holds no tensor (never raises, except when closed). */
  nn_tensor *(*test)(lua_State *L, int idx);
} lnn_capi;

/* Stores the binding's lnn_capi in the registry under LNN_CAPI_KEY (called by luaopen_nn). */
void lnn_capi_register(lua_State *L);

#endif
