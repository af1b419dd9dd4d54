/*
** nn/lua/lcreate.c: making tensors: from Lua tables, filled, ranges, random.
*/
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "nn/alloc.h"
#include "nn/lua/lnn.h"
#include "nn/ops.h"

/* ---- nn.tensor: nested tables ---- */

/* The shape of nested tables, read along the first elements; checked while filling. */
static int table_shape(lua_State *L, int arg, int64_t *shape) {
  int n = 0;
  lua_pushvalue(L, arg);
  while (lua_type(L, -1) == LUA_TTABLE) {
    if (n == NN_MAXDIM)
      lnn_errorf(L, "tables nested more than %d deep (at most %d dimensions are supported)",
                 NN_MAXDIM, NN_MAXDIM);
    shape[n++] = (int64_t)lua_rawlen(L, -1);
    if (shape[n - 1] == 0) break;
    lua_rawgeti(L, -1, 1);
    lua_remove(L, -2);
  }
  lua_pop(L, 1);
  return n;
}

typedef struct filler {
  const nn_tensor *t;
  char *p; /* the next element */
  int64_t path[NN_MAXDIM];
} filler;

/* "[2][1]": where in the nested tables an element is, for messages */
static const char *path_str(const filler *f, int depth, char *buf, size_t n) {
  size_t used = 0;
  buf[0] = 0;
  for (int d = 0; d < depth && used < n; d++)
    used += (size_t)snprintf(buf + used, n - used, "[%lld]", (long long)f->path[d]);
  return buf;
}

static void store_leaf(lua_State *L, filler *f, int depth) {
  char where[NN_MAXDIM * 24];
  nn_dtype dt = f->t->dtype;
  switch (lua_type(L, -1)) {
  case LUA_TNUMBER:
    if (dt == NN_I64 && lua_isinteger(L, -1))
      *(int64_t *)f->p = lua_tointeger(L, -1);
    else if (nn_check_fits(dt, lua_tonumber(L, -1)) < 0)
      lnn_errorf(L, depth ? "element %s: %s" : "%s%s", path_str(f, depth, where, sizeof where),
                 nn_errmsg());
    else
      nn_store(f->p, dt, lua_tonumber(L, -1));
    break;
  case LUA_TBOOLEAN: nn_store(f->p, dt, lua_toboolean(L, -1)); break;
  default:
    if (lnn_test(L, -1))
      lnn_errorf(L, "element %s is a tensor, expected a number (nn.stack joins tensors)",
                 path_str(f, depth, where, sizeof where));
    lnn_errorf(L, "element %s is a %s, expected a number", path_str(f, depth, where, sizeof where),
               luaL_typename(L, -1));
  }
  f->p += nn_dtype_size(dt);
}

/* The entries of the table on top, when more than n: a list with holes ({[1] = 1, [3] = 3},
   whose length may be 1 or 3) or with other keys. */
static int64_t extra_entries(lua_State *L, int64_t n) {
  int64_t count = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    count++;
  }
  return count > n ? count : 0;
}

/* Fills from the table on top, at the given depth, checking it has the expected size. */
static void fill_from(lua_State *L, filler *f, int depth) {
  char where[NN_MAXDIM * 24];
  int64_t n = (int64_t)lua_rawlen(L, -1), want = f->t->shape[depth], extra = extra_entries(L, n);
  if (extra)
    lnn_errorf(L,
               "the table at %s is not a list: %lld entries for length %lld (a hole, or a key "
               "that is not 1..n)",
               depth ? path_str(f, depth, where, sizeof where) : "the top", (long long)extra,
               (long long)n);
  if (n != want)
    lnn_errorf(L, "ragged table at %s (%lld vs %lld elements)",
               path_str(f, depth, where, sizeof where), (long long)n, (long long)want);
  for (int64_t i = 1; i <= n; i++) {
    f->path[depth] = i;
    lua_rawgeti(L, -1, i);
    if (depth + 1 == f->t->ndim)
      store_leaf(L, f, depth + 1);
    else if (lua_type(L, -1) == LUA_TTABLE)
      fill_from(L, f, depth + 1);
    else
      lnn_errorf(L, "ragged table at %s (a %s where a table of %lld elements was expected)",
                 path_str(f, depth + 1, where, sizeof where), luaL_typename(L, -1),
                 (long long)f->t->shape[depth + 1]);
    lua_pop(L, 1);
  }
}

static int l_tensor(lua_State *L) {
  nn_dtype dt = lnn_optdtype(L, 2, NN_F32);
  nn_tensor *src = lnn_test(L, 1);
  if (src) { /* a copy, never src itself */
    lnn_push(L, src->dtype == dt ? nn_clone(src) : nn_to(src, dt));
    return 1;
  }
  int64_t shape[NN_MAXDIM];
  int ndim = 0;
  int type = lua_type(L, 1);
  if (type == LUA_TTABLE)
    ndim = table_shape(L, 1, shape);
  else if (type != LUA_TNUMBER && type != LUA_TBOOLEAN)
    return lnn_argerror(L, 1, "a table, a number or a tensor");
  /* the box first, so that an error while filling leaves nothing to leak */
  lnn_push(L, nn_empty(dt, ndim, shape));
  filler f = {lnn_check(L, -1), NULL, {0}};
  f.p = nn_data(f.t);
  lua_pushvalue(L, 1);
  if (ndim == 0)
    store_leaf(L, &f, 0);
  else
    fill_from(L, &f, 0);
  lua_pop(L, 1);
  return 1;
}

/* ---- filled tensors ---- */

/* Sizes from arg (varargs or a table), then an optional dtype after them. */
static int shape_and_dtype(lua_State *L, int arg, int64_t *shape, nn_dtype *dt, nn_dtype def) {
  int ndim = lnn_checkshape(L, arg, shape);
  int next = lua_type(L, arg) == LUA_TTABLE ? arg + 1 : arg + ndim;
  if (!lua_isnoneornil(L, next) && lua_type(L, next) != LUA_TSTRING)
    lnn_argerror(L, next, "a size or a dtype name");
  *dt = lnn_optdtype(L, next, def);
  return ndim;
}

/* The collection before a large result (lnn_gc_before) for a new tensor of this shape. */
static void gc_before_new(lua_State *L, nn_dtype dt, int ndim, const int64_t *shape) {
  size_t bytes = nn_dtype_size(dt);
  for (int d = 0; d < ndim; d++)
    if (shape[d] < 0 || __builtin_mul_overflow(bytes, (size_t)shape[d], &bytes)) return;
  lnn_gc_before(L, bytes, NULL, NULL);
}

static nn_tensor *ones(nn_dtype dt, int ndim, const int64_t *shape) {
  return nn_full(dt, ndim, shape, 1);
}

/* nn.zeros, nn.ones, nn.empty: sizes and dtype from arg 1 on, made by make */
static int push_made(lua_State *L, nn_tensor *(*make)(nn_dtype, int, const int64_t *)) {
  int64_t shape[NN_MAXDIM];
  nn_dtype dt;
  int ndim = shape_and_dtype(L, 1, shape, &dt, NN_F32);
  gc_before_new(L, dt, ndim, shape);
  lnn_push(L, make(dt, ndim, shape));
  return 1;
}

static int l_zeros(lua_State *L) {
  return push_made(L, nn_zeros);
}
static int l_ones(lua_State *L) {
  return push_made(L, ones);
}
static int l_empty(lua_State *L) {
  return push_made(L, nn_empty);
}

/* A shape given as one argument: a table, or a number for a 1-D tensor. */
static int one_shape_arg(lua_State *L, int arg, int64_t *shape) {
  if (lua_type(L, arg) == LUA_TTABLE) return lnn_checkshape(L, arg, shape);
  if (lua_type(L, arg) != LUA_TNUMBER) lnn_argerror(L, arg, "a shape (a table of sizes)");
  shape[0] = lnn_checkinteger(L, arg);
  return 1;
}

static int l_full(lua_State *L) {
  int64_t shape[NN_MAXDIM];
  int ndim = one_shape_arg(L, 1, shape);
  double v = lnn_checkscalar(L, 2);
  nn_dtype dt = lnn_optdtype(L, 3, NN_F32);
  gc_before_new(L, dt, ndim, shape);
  lnn_push(L, nn_empty(dt, ndim, shape));
  lnn_fill(L, lnn_check(L, -1), 2, v);
  return 1;
}

static int l_eye(lua_State *L) {
  lnn_push(L, nn_eye(lnn_checkinteger(L, 1), lnn_optdtype(L, 2, NN_F32)));
  return 1;
}

/* nn.range(a, b [, step] [, dtype]): i64 when a, b and step are all integers */
static int l_range(lua_State *L) {
  double a = lnn_checknumber(L, 1), b = lnn_checknumber(L, 2);
  int dtarg = lua_type(L, 3) == LUA_TSTRING ? 3 : 4;
  double step = dtarg == 4 ? lnn_optnumber(L, 3, 1) : 1;
  bool integers = lua_isinteger(L, 1) && lua_isinteger(L, 2) &&
                  (dtarg == 3 || lua_isnoneornil(L, 3) || lua_isinteger(L, 3));
  nn_dtype dt = lnn_optdtype(L, dtarg, integers ? NN_I64 : NN_F32);
  lnn_push(L, nn_arange(a, b, step, dt));
  return 1;
}

static int l_linspace(lua_State *L) {
  double a = lnn_checknumber(L, 1), b = lnn_checknumber(L, 2);
  lua_Integer n = lnn_checkinteger(L, 3);
  lnn_push(L, nn_linspace(a, b, n, lnn_optdtype(L, 4, NN_F32)));
  return 1;
}

/* ---- random ---- */

static int l_manual_seed(lua_State *L) {
  nn_manual_seed((uint64_t)lnn_checkinteger(L, 1));
  return 0;
}

/* The generator's 256-bit state as 4 i64 (the bits of its uint64 words), for checkpoints. */
static int l_get_rng_state(lua_State *L) {
  nn_tensor *t = nn_empty(NN_I64, 1, (int64_t[]){4});
  if (t) nn_rng_state((uint64_t *)nn_data(t));
  lnn_push(L, t);
  return 1;
}

static int l_set_rng_state(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  if (t->dtype != NN_I64 || nn_numel(t) != 4)
    return lnn_errorf(L, "the state must be 4 i64 values (from nn.get_rng_state), not %s %s",
                      nn_dtype_name(t->dtype), nn_shape_str(t));
  uint64_t s[4];
  for (int64_t i = 0; i < 4; i++) s[i] = (uint64_t)nn_load_i64(nn_at(t, &i), NN_I64);
  if (nn_rng_set_state(s) < 0) lnn_error(L, NULL);
  return 0;
}

/* An empty tensor of the shape and dtype from arg on, filled by fill. */
static int push_random(lua_State *L, int arg, nn_dtype def, int (*fill)(nn_tensor *)) {
  int64_t shape[NN_MAXDIM];
  nn_dtype dt;
  int ndim = shape_and_dtype(L, arg, shape, &dt, def);
  gc_before_new(L, dt, ndim, shape);
  lnn_push(L, nn_empty(dt, ndim, shape));
  if (fill(lnn_check(L, -1)) < 0) lnn_error(L, NULL);
  return 1;
}

static int l_rand(lua_State *L) {
  return push_random(L, 1, NN_F32, nn_rand_);
}
static int l_randn(lua_State *L) {
  return push_random(L, 1, NN_F32, nn_randn_);
}

static int l_randint(lua_State *L) {
  lua_Integer lo = lnn_checkinteger(L, 1), hi = lnn_checkinteger(L, 2);
  if (lo > hi) return lnn_errorf(L, "empty range: lo %lld is above hi %lld", lo, hi);
  int64_t shape[NN_MAXDIM];
  nn_dtype dt;
  int ndim = shape_and_dtype(L, 3, shape, &dt, NN_I64);
  gc_before_new(L, dt, ndim, shape);
  lnn_push(L, nn_empty(dt, ndim, shape));
  if (nn_randint_(lnn_check(L, -1), lo, hi) < 0) lnn_error(L, NULL);
  return 1;
}

static int l_randperm(lua_State *L) {
  lnn_push_index1(L, nn_randperm(lnn_checkinteger(L, 1)));
  return 1;
}

/* ---- facts about the library ---- */

static int l_is_tensor(lua_State *L) {
  lua_pushboolean(L, lnn_is_tensor(L, 1));
  return 1;
}

static int l_memory(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)nn_alloc_live());
  lua_pushinteger(L, (lua_Integer)nn_alloc_cached());
  lua_pushinteger(L, (lua_Integer)nn_live_tensors());
  return 3;
}

static const lnn_reg creation[] = {
    {"tensor", l_tensor, "nn.tensor(data [, dtype]) -> tensor",
     "A tensor from nested tables of numbers (or a number, or a copy of a tensor); f32 unless "
     "dtype is given."},
    {"zeros", l_zeros, "nn.zeros(...) -> tensor",
     "A tensor of zeros; sizes as varargs or a table, then an optional dtype."},
    {"ones", l_ones, "nn.ones(...) -> tensor",
     "A tensor of ones; sizes as varargs or a table, then an optional dtype."},
    {"empty", l_empty, "nn.empty(...) -> tensor",
     "An uninitialized tensor; sizes as varargs or a table, then an optional dtype."},
    {"full", l_full, "nn.full(shape, v [, dtype]) -> tensor", "A tensor filled with v."},
    {"eye", l_eye, "nn.eye(n [, dtype]) -> tensor", "The n x n identity matrix."},
    {"range", l_range, "nn.range(a, b [, step] [, dtype]) -> tensor",
     "a, a+step, ... up to b inclusive, like Lua's numeric for; i64 when all are integers."},
    {"linspace", l_linspace, "nn.linspace(a, b, n [, dtype]) -> tensor",
     "n evenly spaced points from a to b inclusive."},
    {"is_tensor", l_is_tensor, "nn.is_tensor(v) -> boolean", "Whether v is a tensor."},
    {NULL, NULL, NULL, NULL}};

static const lnn_reg random[] = {
    {"manual_seed", l_manual_seed, "nn.manual_seed(n)",
     "Seeds the random generator: the same seed gives the same numbers on every machine."},
    {"get_rng_state", l_get_rng_state, "nn.get_rng_state() -> tensor",
     "The random generator's state (4 i64), to restore later with nn.set_rng_state."},
    {"set_rng_state", l_set_rng_state, "nn.set_rng_state(state)",
     "Restores a state from nn.get_rng_state: the same numbers follow again."},
    {"rand", l_rand, "nn.rand(...) -> tensor",
     "Uniform random numbers in [0, 1); sizes as varargs or a table, then an optional dtype."},
    {"randn", l_randn, "nn.randn(...) -> tensor",
     "Standard normal random numbers; sizes as varargs or a table, then an optional dtype."},
    {"randint", l_randint, "nn.randint(lo, hi, shape [, dtype]) -> tensor",
     "Random integers from lo to hi inclusive (i64 unless dtype is given)."},
    {"randperm", l_randperm, "nn.randperm(n) -> tensor", "A random permutation of 1..n (i64)."},
    {NULL, NULL, NULL, NULL}};

static const lnn_reg memory[] = {
    {"memory", l_memory, "nn.memory() -> live, cached, tensors",
     "Bytes of tensor data held (tensors of up to 256 bytes keep theirs in their header and "
     "count only as tensors), bytes kept by the allocator for reuse, and how many tensors "
     "(views included) are alive."},
    {NULL, NULL, NULL, NULL}};

void lnn_open_create(lua_State *L) {
  lnn_register(L, "Creation", LNN_FUNC, creation);
  lnn_register(L, "Random", LNN_FUNC, random);
  lnn_register(L, "Memory", LNN_FUNC, memory);
}
