/*
** nn/lua/lio.c: tensor files: safetensors (nn._save_tensors, under stdlib's nn.save, and
** nn.load), .npy and IDX. The core checks the files and names them in its messages; errors
** here add the Lua function's name in front: "nn.load: model.safetensors: truncated header".
**
** Whatever the core hands over is owned by something Lua collects before any Lua call that
** could raise, so a failure halfway (out of memory) leaks nothing.
*/
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "nn/io.h"
#include "nn/lua/lnn.h"

static const char ST_FILE_MT[] = "nn.SafetensorsFile";

static const char *check_path(lua_State *L, int arg) {
  if (lua_type(L, arg) != LUA_TSTRING) lnn_argerror(L, arg, "a path (a string)");
  return lua_tostring(L, arg);
}

/* A list of n strings at arg, into an array kept alive on the stack (the table holds them). */
static const char **string_list(lua_State *L, int arg, const char *what, int *n) {
  if (!lua_istable(L, arg)) lnn_argerror(L, arg, "a list");
  *n = (int)lua_rawlen(L, arg);
  const char **s = lua_newuserdatauv(L, (size_t)(*n + 1) * sizeof *s, 0);
  for (int k = 0; k < *n; k++) {
    if (lua_rawgeti(L, arg, k + 1) != LUA_TSTRING)
      lnn_errorf(L, "%s[%d] is a %s, not a string", what, k + 1, luaL_typename(L, -1));
    s[k] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  return s;
}

static int compare_keys(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* metadata {key = string} into keys and values sorted by key (files come out the same every
   time); numbers are written as Lua prints them. */
static int read_metadata(lua_State *L, int arg, const char ***keys, const char ***values) {
  int n = 0;
  if (lua_isnoneornil(L, arg)) {
    lua_newtable(L);
    lua_replace(L, arg);
  }
  if (!lua_istable(L, arg)) lnn_argerror(L, arg, "a table of strings or nil");
  for (lua_pushnil(L); lua_next(L, arg); lua_pop(L, 1)) n++;
  const char **kv = lua_newuserdatauv(L, (size_t)(2 * n + 1) * sizeof *kv, 0);
  lua_newtable(L); /* keeps strings made from numbers alive */
  int keep = lua_gettop(L), k = 0;
  for (lua_pushnil(L); n > 0 && lua_next(L, arg); lua_pop(L, 1)) {
    if (lua_type(L, -2) != LUA_TSTRING)
      lnn_errorf(L, "metadata keys must be strings, got a %s", luaL_typename(L, -2));
    if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
      lnn_errorf(L, "metadata value %s is a %s, not a string", lua_tostring(L, -2),
                 luaL_typename(L, -1));
    kv[2 * k] = lua_tostring(L, -2);
    lua_pushvalue(L, -1);
    kv[2 * k + 1] = lua_tostring(L, -1); /* a number turns into a string here, not in place */
    lua_rawseti(L, keep, k + 1);
    k++;
  }
  qsort(kv, (size_t)n, 2 * sizeof *kv, compare_keys);
  const char **sorted = lua_newuserdatauv(L, (size_t)(2 * n + 1) * sizeof *kv, 0);
  for (int i = 0; i < n; i++) sorted[i] = kv[2 * i], sorted[n + i] = kv[2 * i + 1];
  *keys = sorted, *values = sorted + n;
  return n;
}

/* nn._save_tensors(path, names, tensors [, metadata]) */
static int l_save_tensors(lua_State *L) {
  lua_settop(L, 4);
  const char *path = check_path(L, 1);
  int n, nt;
  const char **names = string_list(L, 2, "names", &n);
  if (!lua_istable(L, 3)) return lnn_argerror(L, 3, "a list of tensors");
  nt = (int)lua_rawlen(L, 3);
  if (nt != n) return lnn_errorf(L, "%d names for %d tensors", n, nt);
  nn_tensor **ts = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *ts, 0);
  for (int k = 0; k < n; k++) {
    lua_rawgeti(L, 3, k + 1);
    if (!(ts[k] = lnn_test(L, -1)))
      return lnn_errorf(L, "tensors[%d] is a %s, not a tensor", k + 1, luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  const char **keys, **values;
  int nmeta = read_metadata(L, 4, &keys, &values);
  if (nn_safetensors_save(path, n, names, ts, nmeta, keys, values) < 0) return lnn_error(L, NULL);
  return 0;
}

static int st_file_gc(lua_State *L) {
  nn_st_file_free(luaL_checkudata(L, 1, ST_FILE_MT));
  return 0;
}

/* nn.load(path) -> {name = tensor}, {key = string} */
static int l_load(lua_State *L) {
  const char *path = check_path(L, 1);
  nn_st_file *f = lua_newuserdatauv(L, sizeof *f, 0);
  memset(f, 0, sizeof *f);
  luaL_setmetatable(L, ST_FILE_MT);
  if (nn_safetensors_load(path, f) < 0) return lnn_error(L, NULL);
  lua_createtable(L, 0, f->n);
  for (int k = 0; k < f->n; k++) {
    lnn_push(L, nn_retain(f->tensors[k]));
    lua_setfield(L, -2, f->names[k]);
  }
  lua_createtable(L, 0, f->nmeta);
  for (int k = 0; k < f->nmeta; k++) {
    lua_pushstring(L, f->meta_values[k]);
    lua_setfield(L, -2, f->meta_keys[k]);
  }
  nn_st_file_free(f);
  lnn_gc_check(L);
  return 2;
}

static int l_save_npy(lua_State *L) {
  const char *path = check_path(L, 1);
  if (nn_npy_save(path, lnn_check(L, 2)) < 0) return lnn_error(L, NULL);
  return 0;
}

static int l_load_npy(lua_State *L) {
  lnn_push(L, nn_npy_load(check_path(L, 1)));
  return 1;
}

/* nn._load_idx(path [, dtype [, divisor]]) */
static int l_load_idx(lua_State *L) {
  const char *path = check_path(L, 1);
  if (lua_isnoneornil(L, 2) && lua_isnoneornil(L, 3)) {
    lnn_push(L, nn_idx_load(path));
    return 1;
  }
  nn_dtype dtype = lnn_checkdtype(L, 2);
  double divisor = lua_isnoneornil(L, 3) ? 1 : lnn_checknumber(L, 3);
  lnn_push(L, nn_idx_load_as(path, dtype, divisor));
  return 1;
}

static const lnn_reg files[] = {
    {"_save_tensors", l_save_tensors, "nn._save_tensors(path, names, tensors [, metadata])",
     "Writes tensors under names, with string metadata, as a safetensors file, atomically "
     "(nn.save is built on it)."},
    {"load", l_load, "nn.load(path) -> {name = tensor}, metadata",
     "Reads a safetensors file: its tensors by name and its metadata strings (decode them with "
     "nn.meta_decode)."},
    {"save_npy", l_save_npy, "nn.save_npy(path, t)",
     "Writes t as a .npy file, exactly as numpy.save would, atomically: relua's x:numpy() in "
     "PyTorch (numpy.load(path) reads it; nn.load_npy back)."},
    {"load_npy", l_load_npy, "nn.load_npy(path) -> tensor",
     "Reads a .npy file (bool, integers and floats; C or Fortran order)."},
    {"_load_idx", l_load_idx, "nn._load_idx(path [, dtype [, divisor]]) -> tensor",
     "Reads an IDX file (MNIST's format), gzip-compressed or not (see nn.data.idx); with dtype, "
     "converts while reading, dividing each element by divisor (float dtypes only)."},
    {NULL, NULL, NULL, NULL}};

void lnn_open_io(lua_State *L) {
  luaL_newmetatable(L, ST_FILE_MT);
  lua_pushcfunction(L, st_file_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lnn_register(L, "Files", LNN_FUNC, files);
}
