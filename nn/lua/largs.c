/*
** nn/lua/largs.c: reading arguments as the API promises: sizes as varargs or a table,
** 1-based dims and indices (negative from the end), dtype names, scalars, callables.
*/
#include <lauxlib.h>
#include <string.h>

#include "nn/lua/lnn.h"

/* An integer argument (a float with an integral value passes); what names it in errors. */
static int64_t check_integer(lua_State *L, int idx, const char *what) {
  int ok;
  lua_Integer v = lua_tointegerx(L, idx, &ok);
  if (!ok || lua_type(L, idx) != LUA_TNUMBER) {
    if (lua_type(L, idx) == LUA_TNUMBER)
      lnn_errorf(L, "%s %s is not an integer", what, lua_tostring(L, idx));
    lnn_errorf(L, "%s must be an integer, got %s", what, luaL_typename(L, idx));
  }
  return v;
}

static void check_ndim(lua_State *L, int64_t n) {
  if (n > NN_MAXDIM)
    lnn_errorf(L, "a shape of %lld dimensions (at most %d are supported)", (long long)n, NN_MAXDIM);
}

int lnn_checkshape(lua_State *L, int arg, int64_t *shape) {
  if (lua_type(L, arg) == LUA_TTABLE) {
    int64_t n = (int64_t)lua_rawlen(L, arg);
    check_ndim(L, n);
    for (int d = 0; d < n; d++) {
      lua_rawgeti(L, arg, d + 1);
      shape[d] = check_integer(L, -1, "size");
      lua_pop(L, 1);
    }
    return (int)n;
  }
  int n = 0;
  for (int i = arg; lua_type(L, i) == LUA_TNUMBER; i++) {
    check_ndim(L, n + 1);
    shape[n++] = check_integer(L, i, "size");
  }
  return n;
}

int lnn_checkdim(lua_State *L, int arg, int ndim) {
  int64_t d = check_integer(L, arg, "dim");
  int64_t k = d < 0 ? d + ndim : d - 1;
  if (k < 0 || k >= ndim)
    lnn_errorf(L, "dim %lld is out of range for a tensor with %d dimension%s", (long long)d, ndim,
               ndim == 1 ? "" : "s");
  return (int)k;
}

int lnn_optdim(lua_State *L, int arg, int ndim, int def) {
  return lua_isnoneornil(L, arg) ? def : lnn_checkdim(L, arg, ndim);
}

int64_t lnn_checkindex(lua_State *L, int arg, int64_t size, int dim) {
  int64_t i = check_integer(L, arg, "index");
  int64_t k = i < 0 ? i + size : i - 1;
  if (k < 0 || k >= size)
    lnn_errorf(L, "index %lld is out of range for dimension %d of size %lld%s", (long long)i,
               dim + 1, (long long)size, i == 0 ? " (indices start at 1)" : "");
  return k;
}

nn_dtype lnn_checkdtype(lua_State *L, int arg) {
  if (lua_type(L, arg) != LUA_TSTRING) lnn_argerror(L, arg, "a dtype name");
  int dt = nn_dtype_parse(lua_tostring(L, arg));
  if (dt < 0)
    lnn_errorf(L, "unknown dtype '%s' (expected f32, f64, i64 or u8)", lua_tostring(L, arg));
  return (nn_dtype)dt;
}

nn_dtype lnn_optdtype(lua_State *L, int arg, nn_dtype def) {
  return lua_isnoneornil(L, arg) ? def : lnn_checkdtype(L, arg);
}

lua_Integer lnn_checkinteger(lua_State *L, int arg) {
  int ok;
  lua_Integer v = lua_tointegerx(L, arg, &ok);
  if (ok && lua_type(L, arg) == LUA_TNUMBER) return v;
  lnn_argerror(L, arg, "an integer");
  return 0;
}

lua_Integer lnn_optinteger(lua_State *L, int arg, lua_Integer def) {
  return lua_isnoneornil(L, arg) ? def : lnn_checkinteger(L, arg);
}

double lnn_checknumber(lua_State *L, int arg) {
  if (lua_type(L, arg) != LUA_TNUMBER) lnn_argerror(L, arg, "a number");
  return lua_tonumber(L, arg);
}

double lnn_optnumber(lua_State *L, int arg, double def) {
  return lua_isnoneornil(L, arg) ? def : lnn_checknumber(L, arg);
}

double lnn_checkscalar(lua_State *L, int arg) {
  if (lua_type(L, arg) == LUA_TNUMBER) return lua_tonumber(L, arg);
  if (lua_type(L, arg) == LUA_TBOOLEAN) return lua_toboolean(L, arg);
  nn_tensor *t = lnn_test(L, arg);
  if (!t) lnn_argerror(L, arg, "a number");
  if (nn_numel(t) != 1)
    lnn_errorf(L, "expected a number or a one-element tensor, got a tensor of shape %s",
               nn_shape_str(t));
  return nn_load(nn_data(t), t->dtype);
}

double lnn_optfield_number(lua_State *L, int t, const char *k, double def) {
  int type = lua_getfield(L, t, k);
  if (type != LUA_TNIL && type != LUA_TNUMBER)
    lnn_errorf(L, "option %s must be a number, got %s", k, luaL_typename(L, -1));
  double v = type == LUA_TNIL ? def : lua_tonumber(L, -1);
  lua_pop(L, 1);
  return v;
}

bool lnn_optfield_boolean(lua_State *L, int t, const char *k, bool def) {
  int type = lua_getfield(L, t, k);
  if (type != LUA_TNIL && type != LUA_TBOOLEAN)
    lnn_errorf(L, "option %s must be a boolean, got %s", k, luaL_typename(L, -1));
  bool v = type == LUA_TNIL ? def : lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

void lnn_check_keys(lua_State *L, int t, const char *const *known) {
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    bool found = false;
    for (int k = 0; known[k] && !found; k++)
      found = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), known[k]) == 0;
    if (!found) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (int k = 0; known[k]; k++) {
        if (k) luaL_addstring(&b, ", ");
        luaL_addstring(&b, known[k]);
      }
      luaL_pushresult(&b);
      const char *names = lua_tostring(L, -1), *key = luaL_tolstring(L, -2, NULL);
      lnn_errorf(L, "unknown option '%s' (known: %s)", key, names);
    }
  }
}

bool lnn_optboolean(lua_State *L, int arg, bool def) {
  if (lua_isnoneornil(L, arg)) return def;
  if (!lua_isboolean(L, arg)) lnn_argerror(L, arg, "a boolean");
  return lua_toboolean(L, arg);
}

bool lnn_is_callable(lua_State *L, int arg) {
  if (lua_isfunction(L, arg)) return true;
  bool call = luaL_getmetafield(L, arg, "__call") != LUA_TNIL;
  if (call) lua_pop(L, 1);
  return call;
}
