/*
** viz/lvalues.c: reading numbers, tables and nn tensors for the viz binding.
**
** Tensor elements are read in row-major order through shape, strides and offset, with one
** switch on the dtype (viz links no core function, not even nn_load). Reading is a copy:
** nothing is kept of a tensor after the call.
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "nn/lua/lnn_capi.h"
#include "viz/lvalues.h"

int viz_error(lua_State *L, const char *fn, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  lua_pushfstring(L, "%s: %s", fn, msg);
  return lua_error(L);
}

static nn_tensor *test_tensor(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TUSERDATA) return NULL;
  lua_getfield(L, LUA_REGISTRYINDEX, LNN_CAPI_KEY);
  const lnn_capi *api = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return api && api->version >= 1 ? api->test(L, idx) : NULL;
}

int viz_is_tensor(lua_State *L, int idx) {
  return test_tensor(L, idx) != NULL;
}

static const char *shape_str(const nn_tensor *t, char *buf, size_t n) {
  size_t len = (size_t)snprintf(buf, n, "{");
  for (int d = 0; d < t->ndim && len < n; d++)
    len += (size_t)snprintf(buf + len, n - len, d ? ",%lld" : "%lld", (long long)t->shape[d]);
  if (len < n) snprintf(buf + len, n - len, "}");
  return buf;
}

const char *viz_describe(lua_State *L, int idx) {
  nn_tensor *t = test_tensor(L, idx);
  if (t) {
    char shape[128];
    return lua_pushfstring(L, "a tensor of shape %s", shape_str(t, shape, sizeof shape));
  }
  switch (lua_type(L, idx)) {
  case LUA_TNUMBER:
  case LUA_TBOOLEAN: return luaL_tolstring(L, idx, NULL);
  case LUA_TSTRING: return lua_pushfstring(L, "the string \"%s\"", lua_tostring(L, idx));
  case LUA_TNONE: return "nothing";
  default: return lua_pushfstring(L, "a %s", luaL_typename(L, idx));
  }
}

void viz_check_options(lua_State *L, int idx, const char *fn, const char *const *known) {
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    int i = 0;
    while (known[i] && !(key && strcmp(key, known[i]) == 0)) i++;
    if (!known[i]) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (i = 0; known[i]; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, known[i]);
      }
      luaL_pushresult(&b);
      viz_error(L, fn, "unknown option %s (known: %s)",
                key ? lua_pushfstring(L, "'%s'", key) : viz_describe(L, -3), lua_tostring(L, -1));
    }
    lua_pop(L, 1);
  }
}

/* ---- tensors ---- */

static size_t dtype_size(nn_dtype dt) {
  switch (dt) {
  case NN_F32: return sizeof(float);
  case NN_F64: return sizeof(double);
  case NN_I64: return sizeof(int64_t);
  case NN_U8: return 1;
  default: return 0;
  }
}

/* The element at p as a double, and as an integer when it is one (*integral). */
static double load(const char *p, nn_dtype dt, int64_t *as_int, bool *integral) {
  double d = 0;
  switch (dt) {
  case NN_F32: {
    float f;
    memcpy(&f, p, sizeof f);
    d = f;
    break;
  }
  case NN_F64: memcpy(&d, p, sizeof d); break;
  case NN_I64:
    memcpy(as_int, p, sizeof *as_int);
    *integral = true;
    return (double)*as_int;
  case NN_U8: d = *(const uint8_t *)p; break;
  default: d = NAN;
  }
  *integral = d == floor(d) && fabs(d) < 9.2e18;
  *as_int = *integral ? (int64_t)d : 0;
  return d;
}

static int64_t numel(const nn_tensor *t) {
  int64_t n = 1;
  for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
  return n;
}

/* Walks t's elements in row-major order: each call gives the next element's address. */
typedef struct walker {
  const nn_tensor *t;
  const char *base;
  size_t esize;
  int64_t idx[NN_MAXDIM], off;
} walker;

static void walk_start(walker *w, const nn_tensor *t) {
  memset(w, 0, sizeof *w);
  w->t = t;
  w->esize = dtype_size(t->dtype);
  w->base = t->storage && t->storage->data
                ? (const char *)t->storage->data + t->offset * (int64_t)w->esize
                : NULL;
}

static const char *walk_next(walker *w) {
  const char *p = w->base + w->off * (int64_t)w->esize;
  const nn_tensor *t = w->t;
  for (int d = t->ndim - 1; d >= 0; d--) {
    w->off += t->stride[d];
    if (++w->idx[d] < t->shape[d]) break;
    w->off -= t->stride[d] * t->shape[d];
    w->idx[d] = 0;
  }
  return p;
}

static void check_readable(lua_State *L, const nn_tensor *t, const char *fn, const char *what) {
  if (!dtype_size(t->dtype)) viz_error(L, fn, "%s has a dtype viz cannot read", what);
  if (numel(t) > 0 && !(t->storage && t->storage->data))
    viz_error(L, fn, "%s is a tensor without memory", what);
}

/* ---- numbers ---- */

static void *push_array(lua_State *L, size_t n, size_t size) {
  return lua_newuserdatauv(L, (n ? n : 1) * size, 0);
}

/* Element i of a table or tensor at idx, as a double (and integer), or raises. */
static double table_number(lua_State *L, int idx, lua_Integer i, const char *fn, const char *what,
                           int64_t *as_int, bool *integral) {
  lua_geti(L, idx, i);
  int isnum;
  double d = lua_tonumberx(L, -1, &isnum);
  if (!isnum || lua_type(L, -1) != LUA_TNUMBER)
    viz_error(L, fn, "%s[%d] must be a number, got %s", what, (int)i, viz_describe(L, -1));
  *integral = lua_isinteger(L, -1) || (d == floor(d) && fabs(d) < 9.2e18);
  *as_int = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : *integral ? (int64_t)d : 0;
  lua_pop(L, 1);
  return d;
}

/* Reads idx into doubles (d) or integers (iv). Pushes the array. */
static void *read_flat(lua_State *L, int idx, const char *fn, const char *what, bool ints,
                       size_t *n) {
  idx = lua_absindex(L, idx);
  nn_tensor *t = test_tensor(L, idx);
  size_t esize = ints ? sizeof(int64_t) : sizeof(double);
  int type = lua_type(L, idx);
  if (!t && type != LUA_TNUMBER && type != LUA_TTABLE)
    viz_error(L, fn, "%s must be a number, a table of numbers or a tensor, got %s", what,
              viz_describe(L, idx));
  if (t) check_readable(L, t, fn, what);
  *n = t ? (size_t)numel(t) : type == LUA_TTABLE ? (size_t)luaL_len(L, idx) : 1;
  char *out = push_array(L, *n, esize);
  walker w;
  if (t) walk_start(&w, t);
  for (size_t k = 0; k < *n; k++) {
    int64_t as_int = 0;
    bool integral = false;
    double d;
    if (t)
      d = load(walk_next(&w), t->dtype, &as_int, &integral);
    else if (type == LUA_TTABLE)
      d = table_number(L, idx, (lua_Integer)k + 1, fn, what, &as_int, &integral);
    else {
      d = lua_tonumber(L, idx);
      integral = lua_isinteger(L, idx) || (d == floor(d) && fabs(d) < 9.2e18);
      as_int = lua_isinteger(L, idx) ? lua_tointeger(L, idx) : integral ? (int64_t)d : 0;
    }
    if (ints && !integral) viz_error(L, fn, "%s must hold integers, got %g", what, d);
    if (ints)
      memcpy(out + k * esize, &as_int, esize);
    else
      memcpy(out + k * esize, &d, esize);
  }
  return out;
}

double *viz_check_numbers(lua_State *L, int idx, const char *fn, const char *what, size_t *n) {
  return read_flat(L, idx, fn, what, false, n);
}

int64_t *viz_check_integers(lua_State *L, int idx, const char *fn, const char *what, size_t *n) {
  return read_flat(L, idx, fn, what, true, n);
}

/* ---- grids and rows ---- */

/* The rows x cols of a 2-D tensor or a table of rows (each at least `atleast` long when
   given, else all equally long); raises otherwise. */
static void grid_size(lua_State *L, int idx, const char *fn, const char *what, int atleast,
                      size_t *rows, size_t *cols) {
  nn_tensor *t = test_tensor(L, idx);
  if (t) {
    if (t->ndim != 2)
      viz_error(L, fn, "%s must be a 2-D tensor or a table of rows, got %s", what,
                viz_describe(L, idx));
    *rows = (size_t)t->shape[0], *cols = (size_t)t->shape[1];
    return;
  }
  if (lua_type(L, idx) != LUA_TTABLE)
    viz_error(L, fn, "%s must be a 2-D tensor or a table of rows, got %s", what,
              viz_describe(L, idx));
  *rows = (size_t)luaL_len(L, idx);
  *cols = (size_t)atleast; /* 0 rows of a given width are fine */
  for (size_t i = 1; i <= *rows; i++) {
    if (lua_geti(L, idx, (lua_Integer)i) != LUA_TTABLE)
      viz_error(L, fn, "%s[%d] must be a table (a row), got %s", what, (int)i, viz_describe(L, -1));
    size_t len = (size_t)luaL_len(L, -1);
    lua_pop(L, 1);
    if (i == 1) *cols = atleast ? (size_t)atleast : len;
    if (atleast ? len < (size_t)atleast : len != *cols)
      viz_error(L, fn, "%s[%d] has %d elements, %s %d", what, (int)i, (int)len,
                atleast ? "expected at least" : "unlike row 1 with", (int)*cols);
  }
}

/* Reads a 2-D tensor or table of rows into doubles or integers, row-major. */
static void *read_grid(lua_State *L, int idx, const char *fn, const char *what, bool ints,
                       int atleast, size_t *rows, size_t *cols) {
  idx = lua_absindex(L, idx);
  grid_size(L, idx, fn, what, atleast, rows, cols);
  nn_tensor *t = test_tensor(L, idx);
  if (t) check_readable(L, t, fn, what);
  if (*rows > 0 && *cols > SIZE_MAX / 16 / *rows) viz_error(L, fn, "%s is too large", what);
  size_t esize = ints ? sizeof(int64_t) : sizeof(double), n = *rows * *cols;
  char *out = push_array(L, n, esize);
  int owner = lua_gettop(L);
  walker w;
  if (t) walk_start(&w, t);
  char name[64];
  for (size_t i = 0; i < *rows; i++) {
    if (!t) lua_geti(L, idx, (lua_Integer)i + 1);
    snprintf(name, sizeof name, "%s[%d]", what, (int)i + 1);
    for (size_t j = 0; j < *cols; j++) {
      int64_t as_int = 0;
      bool integral = false;
      double d = t ? load(walk_next(&w), t->dtype, &as_int, &integral)
                   : table_number(L, owner + 1, (lua_Integer)j + 1, fn, name, &as_int, &integral);
      if (ints && !integral) viz_error(L, fn, "%s must hold integers, got %g", what, d);
      if (ints)
        memcpy(out + (i * *cols + j) * esize, &as_int, esize);
      else
        memcpy(out + (i * *cols + j) * esize, &d, esize);
    }
    if (!t) lua_pop(L, 1);
  }
  return out;
}

int64_t *viz_check_grid(lua_State *L, int idx, const char *fn, const char *what, int *h, int *w) {
  size_t rows, cols;
  int64_t *g = read_grid(L, idx, fn, what, true, 0, &rows, &cols);
  if (rows == 0 || cols == 0 || rows > 1 << 15 || cols > 1 << 15)
    viz_error(L, fn, "%s must be a grid of 1 to 32768 rows and columns, got %dx%d", what, (int)rows,
              (int)cols);
  *h = (int)rows, *w = (int)cols;
  return g;
}

double *viz_check_rows(lua_State *L, int idx, const char *fn, const char *what, int cols,
                       size_t *n) {
  size_t got;
  nn_tensor *t = test_tensor(L, idx);
  /* table rows may be longer (x, y, label): only their first cols are read */
  double *m = read_grid(L, idx, fn, what, false, t ? 0 : cols, n, &got);
  if (got != (size_t)cols)
    viz_error(L, fn, "%s must be an n x %d tensor, got %s", what, cols, viz_describe(L, idx));
  return m;
}

/* ---- activations ---- */

void viz_tensor_zeros(lua_State *L, int idx, const char *fn, const char *what, double *frac,
                      int64_t *dead) {
  nn_tensor *t = test_tensor(L, idx);
  if (!t) viz_error(L, fn, "%s must be a tensor, got %s", what, viz_describe(L, idx));
  check_readable(L, t, fn, what);
  int64_t n = numel(t), samples = t->ndim >= 2 ? t->shape[0] : 1;
  if (n == 0) viz_error(L, fn, "%s is empty (%s)", what, viz_describe(L, idx));
  /* the units: an element's position after the batch dim, or the channel of a feature map
     (N, C, H, W, ...), which is alive where any of its positions is, as nn.stats counts them */
  int64_t units = n / samples, positions = 1, zeros = 0;
  if (t->ndim >= 4 && t->shape[1] > 0) positions = units / t->shape[1], units = t->shape[1];
  uint8_t *alive = push_array(L, (size_t)units, 1); /* 1: nonzero for some sample */
  memset(alive, 0, (size_t)units);
  walker w;
  walk_start(&w, t);
  for (int64_t k = 0; k < n; k++) {
    int64_t as_int;
    bool integral;
    bool zero = load(walk_next(&w), t->dtype, &as_int, &integral) == 0;
    zeros += zero;
    alive[k / positions % units] |= !zero;
  }
  int64_t nalive = 0;
  for (int64_t u = 0; u < units; u++) nalive += alive[u];
  lua_pop(L, 1);
  *frac = (double)zeros / (double)n;
  *dead = units - nalive;
}
