/*
** nn/lua/lpool.c: 2-D pooling (nn/ops/pool2d.c) as nn.max_pool2d, nn.avg_pool2d and
** nn.adaptive_avg_pool2d. Sizes are an integer or a pair {rows, cols}; the window options
** come positionally (k, stride, padding, ...) as PyTorch's, or as a table after k.
** The layers of stdlib/nn/cnn.lua call these.
*/
#include <string.h>

#include <lauxlib.h>

#include "nn/lua/lnn.h"
#include "nn/ops.h"

/* Window sizes fit 31 bits (the geometry's sums of sizes, paddings and kernels then cannot
   overflow); a whole float (4 / 2) counts as an integer. */
#define MAX_WINDOW 2147483647

static bool whole_at(lua_State *L, int idx, int64_t *out) {
  int ok;
  lua_Integer v = lua_tointegerx(L, idx, &ok);
  *out = ok ? (int64_t)v : 0;
  return ok && lua_type(L, idx) == LUA_TNUMBER;
}

/* an integer or a pair of integers at idx (def for both when nil and def >= 0) */
static void pair_at(lua_State *L, int idx, const char *what, int64_t def, int64_t out[2]) {
  if (lua_isnoneornil(L, idx) && def >= 0) {
    out[0] = out[1] = def;
    return;
  }
  bool ok = whole_at(L, idx, &out[0]);
  out[1] = out[0];
  if (!ok && lua_istable(L, idx) && luaL_len(L, idx) == 2) {
    ok = true;
    for (int k = 0; k < 2; k++) {
      lua_geti(L, idx, k + 1);
      ok = whole_at(L, -1, &out[k]) && ok;
      lua_pop(L, 1);
    }
  }
  if (!ok) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (lua_istable(L, idx)) { /* {2,2,2}, not table: 0x... */
      luaL_addchar(&b, '{');
      for (lua_Integer k = 1, n = luaL_len(L, idx); k <= n; k++) {
        lua_geti(L, idx, k);
        luaL_tolstring(L, -1, NULL);
        lua_remove(L, -2);
        luaL_addvalue(&b);
        if (k < n) luaL_addchar(&b, ',');
      }
      luaL_addchar(&b, '}');
    } else {
      luaL_tolstring(L, idx, NULL);
      luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    lnn_errorf(L, "%s must be an integer or a pair of integers {rows, cols}, got %s", what,
               lua_tostring(L, -1));
  }
  for (int k = 0; k < 2; k++)
    if (out[k] > MAX_WINDOW)
      lnn_errorf(L, "%s %lld is too large (at most %d)", what, (long long)out[k], MAX_WINDOW);
}

typedef struct window {
  int64_t k[2], s[2], p[2];
  bool ceil_mode, include_pad;
} window;

/* options in a table (string keys) rather than positional */
static bool is_options(lua_State *L, int idx) {
  if (!lua_istable(L, idx)) return false;
  bool pair = lua_geti(L, idx, 1) != LUA_TNIL;
  lua_pop(L, 1);
  return !pair;
}

static bool opt_bool(lua_State *L, int idx, const char *what) {
  if (lua_isnoneornil(L, idx)) return false;
  if (!lua_isboolean(L, idx))
    lnn_errorf(L, "%s must be a boolean, got %s", what, luaL_typename(L, idx));
  return lua_toboolean(L, idx);
}

/* x, k, then stride, padding, ceil_mode[, count_include_pad] or a table of them */
static window window_args(lua_State *L, bool avg) {
  window w = {.include_pad = avg};
  pair_at(L, 2, "kernel size", -1, w.k);
  if (is_options(L, 3)) {
    static const char *const known[] = {"stride", "padding", "ceil_mode", "count_include_pad",
                                        NULL};
    static const char *const known_max[] = {"stride", "padding", "ceil_mode", NULL};
    lnn_check_keys(L, 3, avg ? known : known_max);
    lua_getfield(L, 3, "stride");
    lua_getfield(L, 3, "padding");
    lua_getfield(L, 3, "ceil_mode");
    lua_getfield(L, 3, "count_include_pad");
  } else {
    lua_settop(L, 7);
    lua_pushvalue(L, 3), lua_pushvalue(L, 4), lua_pushvalue(L, 5), lua_pushvalue(L, 6);
  }
  int top = lua_gettop(L);
  if (lua_isnil(L, top - 3))
    w.s[0] = w.k[0], w.s[1] = w.k[1]; /* PyTorch: stride = kernel */
  else
    pair_at(L, top - 3, "stride", -1, w.s);
  pair_at(L, top - 2, "padding", 0, w.p);
  w.ceil_mode = opt_bool(L, top - 1, "ceil_mode");
  if (avg && !lua_isnil(L, top)) w.include_pad = opt_bool(L, top, "count_include_pad");
  return w;
}

static int l_max_pool2d(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  window w = window_args(L, false);
  lnn_push(L, nn_max_pool2d(x, w.k, w.s, w.p, w.ceil_mode));
  lnn_gc_check(L);
  return 1;
}

static int l_avg_pool2d(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  window w = window_args(L, true);
  lnn_push(L, nn_avg_pool2d(x, w.k, w.s, w.p, w.ceil_mode, w.include_pad));
  lnn_gc_check(L);
  return 1;
}

static int l_adaptive_avg_pool2d(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  int64_t size[2];
  pair_at(L, 2, "output size", -1, size);
  lnn_push(L, nn_adaptive_avg_pool2d(x, size[0], size[1]));
  lnn_gc_check(L);
  return 1;
}

static const lnn_reg pool_fns[] = {
    {"max_pool2d", l_max_pool2d,
     "nn.max_pool2d(x, k [, stride=k [, padding=0 [, ceil_mode=false]]]) -> tensor",
     "The maximum of each k window of x (N, C, H, W) or (C, H, W), moved by stride, over an "
     "input padded by padding (at most k/2) on each side; sizes are an integer or {rows, "
     "cols}, the options may be a table {stride, padding, ceil_mode}. The gradient goes to "
     "each window's arg-max."},
    {"avg_pool2d", l_avg_pool2d,
     "nn.avg_pool2d(x, k [, stride=k [, padding=0 [, ceil_mode=false [, "
     "count_include_pad=true]]]]) -> tensor",
     "The mean of each k window, as nn.max_pool2d moves them; with count_include_pad the "
     "padded zeros count in the mean, as PyTorch's."},
    {"adaptive_avg_pool2d", l_adaptive_avg_pool2d, "nn.adaptive_avg_pool2d(x, size) -> tensor",
     "Averages x (N, C, H, W) down to size (an integer or {rows, cols}): output row i averages "
     "input rows floor(i H / rows) .. ceil((i + 1) H / rows), as PyTorch's."},
    {NULL, NULL, NULL, NULL}};

void lnn_open_pool(lua_State *L) {
  lnn_register(L, "Pooling", LNN_FUNC, pool_fns);
}
