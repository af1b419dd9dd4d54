/*
** nn/lua/lshape.c: what a tensor is (shape, dtype, elements), views of it, conversions,
** and filling it.
*/
#include <lauxlib.h>

#include "nn/lua/lnn.h"
#include "nn/ops.h"

/* Returns self: methods that give back their object (x:fill_(v), x:to(x:dtype())). */
static int self(lua_State *L) {
  lua_settop(L, 1);
  return 1;
}

static void push_dims(lua_State *L, int ndim, const int64_t *shape) {
  lua_createtable(L, ndim, 0);
  for (int d = 0; d < ndim; d++) {
    lua_pushinteger(L, shape[d]);
    lua_rawseti(L, -2, d + 1);
  }
}

/* ---- shapes ---- */

/* A shape is a list of sizes with a metatable: it prints as {2,3}, equals any list of the
   same sizes, and returns itself when called, so that x.shape and x:shape() are one thing. */
static const char *const SHAPE_MT = "nn.Shape";

static int shape_tostring(lua_State *L) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '{');
  lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    luaL_addvalue(&b);
    if (i < n) luaL_addchar(&b, ',');
  }
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
  return 1;
}

static int shape_eq(lua_State *L) {
  bool same = lua_istable(L, 1) && lua_istable(L, 2) && lua_rawlen(L, 1) == lua_rawlen(L, 2);
  for (lua_Integer i = 1; same && i <= (lua_Integer)lua_rawlen(L, 1); i++) {
    lua_rawgeti(L, 1, i);
    lua_rawgeti(L, 2, i);
    same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  lua_pushboolean(L, same);
  return 1;
}

static void push_shape(lua_State *L, const nn_tensor *t) {
  push_dims(L, t->ndim, t->shape);
  if (luaL_newmetatable(L, SHAPE_MT)) {
    lua_pushcfunction(L, shape_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, shape_eq);
    lua_setfield(L, -2, "__eq");
    lua_pushcfunction(L, self);
    lua_setfield(L, -2, "__call");
  }
  lua_setmetatable(L, -2);
}

/* ---- facts ---- */

static int l_shape(lua_State *L) {
  push_shape(L, lnn_check(L, 1));
  return 1;
}

/* x.ndim */
static int get_ndim(lua_State *L) {
  lua_pushinteger(L, lnn_check(L, 1)->ndim);
  return 1;
}

/* x.T: the dims reversed (a matrix transposed), as PyTorch's */
static int get_T(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  if (t->ndim < 2) return self(L);
  int perm[NN_MAXDIM];
  for (int d = 0; d < t->ndim; d++) perm[d] = t->ndim - 1 - d;
  lnn_push(L, nn_t_permute(t, perm));
  return 1;
}

static int l_size(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  if (lua_isnoneornil(L, 2)) return l_shape(L);
  lua_pushinteger(L, t->shape[lnn_checkdim(L, 2, t->ndim)]);
  return 1;
}

static int l_dim(lua_State *L) {
  lua_pushinteger(L, lnn_check(L, 1)->ndim);
  return 1;
}

static int l_numel(lua_State *L) {
  lua_pushinteger(L, nn_numel(lnn_check(L, 1)));
  return 1;
}

static int l_dtype(lua_State *L) {
  lua_pushstring(L, nn_dtype_name(lnn_check(L, 1)->dtype));
  return 1;
}

static int l_is_contiguous(lua_State *L) {
  lua_pushboolean(L, nn_is_contiguous(lnn_check(L, 1)));
  return 1;
}

/* ---- elements ---- */

static int l_item(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  if (nn_numel(t) != 1)
    return lnn_errorf(L, "only a tensor with one element has an item, this one has %lld (shape %s)",
                      (long long)nn_numel(t), nn_shape_str(t));
  lnn_push_element(L, nn_data(t), t->dtype);
  return 1;
}

static void push_nested(lua_State *L, const nn_tensor *t, int d, const char *p) {
  if (d == t->ndim) {
    lnn_push_element(L, p, t->dtype);
    return;
  }
  luaL_checkstack(L, 3, "tensor nested too deep");
  int64_t step = t->stride[d] * (int64_t)nn_dtype_size(t->dtype);
  lua_createtable(L, (int)t->shape[d], 0);
  for (int64_t i = 0; i < t->shape[d]; i++) {
    push_nested(L, t, d + 1, p + i * step);
    lua_rawseti(L, -2, i + 1);
  }
}

static int l_totable(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  push_nested(L, t, 0, nn_data(t));
  return 1;
}

/* ---- copies and conversions ---- */

static int l_clone(lua_State *L) {
  lnn_gc_before_like(L, lnn_check(L, 1), 1, 1);
  lnn_push(L, nn_t_clone(lnn_check(L, 1)));
  return 1;
}

static int l_contiguous(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  if (nn_is_contiguous(t)) return self(L);
  lnn_gc_before_like(L, t, 1, 1);
  lnn_push(L, nn_t_contiguous(t));
  return 1;
}

static int to_dtype(lua_State *L, nn_dtype dt) {
  nn_tensor *t = lnn_check(L, 1);
  if (t->dtype == dt) return self(L);
  lnn_gc_before_like(L, t, nn_dtype_size(dt), nn_dtype_size(t->dtype));
  lnn_push(L, nn_t_to(t, dt));
  return 1;
}

static int l_to(lua_State *L) {
  lnn_check(L, 1);
  return to_dtype(L, lnn_checkdtype(L, 2));
}

/* x:float(), x:double(), ...: one function, the dtype in an upvalue */
static int l_to_fixed(lua_State *L) {
  return to_dtype(L, (nn_dtype)lua_tointeger(L, lua_upvalueindex(1)));
}

/* ---- views ---- */

/* Sizes from arg 2 on, with nothing after them. */
static int sizes_only(lua_State *L, int64_t *shape) {
  int n = lnn_checkshape(L, 2, shape);
  int next = lua_type(L, 2) == LUA_TTABLE ? 3 : 2 + n;
  if (!lua_isnone(L, next)) lnn_argerror(L, next, "a size");
  return n;
}

/* Replaces one -1 in shape by what makes numel elements. */
static void infer_size(lua_State *L, const nn_tensor *t, int ndim, int64_t *shape) {
  int at = -1;
  bool zero = false; /* a 0 among the other sizes: -1 could be anything */
  int64_t known = 1, numel = nn_numel(t);
  for (int d = 0; d < ndim; d++) {
    if (shape[d] == -1) {
      if (at >= 0) lnn_errorf(L, "only one size can be -1, in %s", nn_dims_str(ndim, shape));
      at = d;
    } else if (shape[d] < 0) {
      return; /* the core reports the negative size */
    } else if (shape[d] == 0) {
      zero = true;
    } else if (known <= numel) {
      known *= shape[d];
    }
  }
  if (at < 0) return;
  if (zero)
    lnn_errorf(L, "shape %s is ambiguous: with a size 0 in it, the -1 could be any size",
               nn_dims_str(ndim, shape));
  if (known == 0 || numel % known != 0)
    lnn_errorf(L, "shape %s is invalid for a tensor of %lld elements", nn_dims_str(ndim, shape),
               (long long)numel);
  shape[at] = numel / known;
}

static int reshaped(lua_State *L, nn_tensor *(*f)(nn_tensor *, int, const int64_t *)) {
  nn_tensor *t = lnn_check(L, 1);
  int64_t shape[NN_MAXDIM];
  int ndim = sizes_only(L, shape);
  infer_size(L, t, ndim, shape);
  lnn_push(L, f(t, ndim, shape));
  return 1;
}

static int l_view(lua_State *L) {
  return reshaped(L, nn_t_view);
}
static int l_reshape(lua_State *L) {
  return reshaped(L, nn_t_reshape);
}

static int l_flatten(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  int start = 0, end = 0; /* a 0-dim tensor becomes {1} */
  if (t->ndim > 0) {
    start = lnn_optdim(L, 2, t->ndim, 0);
    end = lnn_optdim(L, 3, t->ndim, t->ndim - 1);
  }
  lnn_push(L, nn_t_flatten(t, start, end));
  return 1;
}

static int l_transpose(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  int d1 = lnn_checkdim(L, 2, t->ndim), d2 = lnn_checkdim(L, 3, t->ndim);
  lnn_push(L, nn_t_transpose(t, d1, d2));
  return 1;
}

static int l_t(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  if (t->ndim < 2) return self(L);
  if (t->ndim > 2)
    return lnn_errorf(L, "expects a tensor of at most 2 dimensions, got %s (use transpose)",
                      nn_shape_str(t));
  lnn_push(L, nn_t_transpose(t, 0, 1));
  return 1;
}

static int l_permute(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  int64_t dims[NN_MAXDIM];
  int n = sizes_only(L, dims), perm[NN_MAXDIM];
  bool seen[NN_MAXDIM] = {false};
  if (n != t->ndim)
    return lnn_errorf(L, "%d dims given for a tensor with %d dimensions", n, t->ndim);
  for (int d = 0; d < n; d++) {
    int64_t k = dims[d] < 0 ? dims[d] + n : dims[d] - 1;
    if (k < 0 || k >= n || seen[k])
      return lnn_errorf(L, "%s is not a permutation of the dims 1..%d", nn_dims_str(n, dims), n);
    seen[k] = true;
    perm[d] = (int)k;
  }
  lnn_push(L, nn_t_permute(t, perm));
  return 1;
}

static int l_squeeze(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  lnn_push(L, nn_t_squeeze(t, lnn_optdim(L, 2, t->ndim, -1)));
  return 1;
}

/* The new dim goes before dim d (1..ndim+1); -1 puts it last. */
static int l_unsqueeze(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  lnn_push(L, nn_t_unsqueeze(t, lnn_checkdim(L, 2, t->ndim + 1)));
  return 1;
}

static int l_expand(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  int64_t shape[NN_MAXDIM];
  int ndim = sizes_only(L, shape);
  lnn_push(L, nn_t_expand(t, ndim, shape));
  return 1;
}

static int l_narrow(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  int d = lnn_checkdim(L, 2, t->ndim);
  int64_t size = t->shape[d], start = lnn_checkinteger(L, 3), len = lnn_checkinteger(L, 4);
  int64_t k = start < 0 ? start + size : start - 1;
  if (k < 0 || k > size)
    return lnn_errorf(L, "start %lld is out of range for dimension %d of size %lld%s",
                      (long long)start, d + 1, (long long)size,
                      start == 0 ? " (indices start at 1)" : "");
  lnn_push(L, nn_t_narrow(t, d, k, len));
  return 1;
}

static int l_select(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  int d = lnn_checkdim(L, 2, t->ndim);
  lnn_push(L, nn_t_select(t, d, lnn_checkindex(L, 3, t->shape[d], d)));
  return 1;
}

/* ---- filling ---- */

static int l_fill_(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  double v = lnn_checkscalar(L, 2);
  lnn_check_inplace(L, t, NULL);
  lnn_fill(L, t, 2, v);
  return self(L);
}

static int l_zero_(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  lnn_check_inplace(L, t, NULL);
  nn_fill_(t, 0);
  return self(L);
}

static int l_copy_(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1), *src = lnn_check(L, 2);
  lnn_check_inplace(L, t, src);
  if (nn_copy_(t, src) < 0) return lnn_error(L, NULL);
  return self(L);
}

/* t = t * scale + shift, in place, for the random fills below */
static void affine_(lua_State *L, nn_tensor *t, double scale, double shift) {
  nn_tensor *s = nn_scalar(t->dtype, scale), *b = nn_scalar(t->dtype, shift);
  int rc = s && b ? 0 : -1;
  if (rc == 0 && scale != 1) rc = nn_call_into(&nn_op_mul, t, (nn_tensor *[]){t, s}, NULL);
  if (rc == 0 && shift != 0) rc = nn_call_into(&nn_op_add, t, (nn_tensor *[]){t, b}, NULL);
  nn_release(s);
  nn_release(b);
  if (rc < 0) lnn_error(L, NULL);
}

static int l_uniform_(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  double lo = lnn_optnumber(L, 2, 0), hi = lnn_optnumber(L, 3, 1);
  lnn_check_inplace(L, t, NULL);
  if (nn_check_writable(t) < 0 || nn_rand_(t) < 0) return lnn_error(L, NULL);
  affine_(L, t, hi - lo, lo);
  return self(L);
}

static int l_normal_(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  double mean = lnn_optnumber(L, 2, 0), std = lnn_optnumber(L, 3, 1);
  lnn_check_inplace(L, t, NULL);
  if (nn_check_writable(t) < 0 || nn_randn_(t) < 0) return lnn_error(L, NULL);
  affine_(L, t, std, mean);
  return self(L);
}

static const lnn_reg facts[] = {
    {"shape", l_shape, "x.shape or x:shape() -> shape",
     "The sizes as a list that prints as {2,3} and equals any list of the same sizes; x.ndim is "
     "the number of dims, x.T the transpose."},
    {"size", l_size, "x:size([d]) -> integer", "The size of dim d (1-based); the shape without d."},
    {"dim", l_dim, "x:dim() -> integer", "The number of dimensions."},
    {"numel", l_numel, "x:numel() -> integer", "The number of elements."},
    {"dtype", l_dtype, "x:dtype() -> string",
     "The element type: \"f32\", \"f64\", \"i64\" or \"u8\"."},
    {"is_contiguous", l_is_contiguous, "x:is_contiguous() -> boolean",
     "Whether the elements lie in memory in row-major order without gaps."},
    {"item", l_item, "x:item() -> number",
     "The value of a one-element tensor (an integer for i64 and u8)."},
    {"totable", l_totable, "x:totable() -> table", "The elements as nested Lua tables."},
    {NULL, NULL, NULL, NULL}};

static const lnn_reg conversions[] = {
    {"clone", l_clone, "x:clone() -> tensor", "A copy with its own memory."},
    {"contiguous", l_contiguous, "x:contiguous() -> tensor",
     "x itself when contiguous, else a contiguous copy."},
    {"to", l_to, "x:to(dtype) -> tensor", "x converted to dtype (x itself when it has it)."},
    {NULL, NULL, NULL, NULL}};

static const struct {
  lnn_reg reg;
  nn_dtype dt;
} fixed_conversions[] = {
    {{"float", NULL, "x:float() -> tensor", "x as f32."}, NN_F32},
    {{"double", NULL, "x:double() -> tensor", "x as f64."}, NN_F64},
    {{"long", NULL, "x:long() -> tensor", "x as i64."}, NN_I64},
    {{"byte", NULL, "x:byte() -> tensor", "x as u8."}, NN_U8},
};

static const lnn_reg views[] = {
    {"view", l_view, "x:view(...) -> tensor",
     "The same memory seen with another shape (one size may be -1); errors when the strides "
     "do not allow it."},
    {"reshape", l_reshape, "x:reshape(...) -> tensor",
     "Another shape (one size may be -1): a view when possible, else a copy."},
    {"flatten", l_flatten, "x:flatten([start [, end]]) -> tensor",
     "Dims start..end (default all) merged into one."},
    {"transpose", l_transpose, "x:transpose(d1, d2) -> tensor",
     "A view with dims d1 and d2 swapped."},
    {"t", l_t, "x:t() -> tensor", "The transpose of a matrix (a vector stays as it is)."},
    {"permute", l_permute, "x:permute(...) -> tensor",
     "A view with the dims reordered: x:permute(3, 1, 2) or x:permute{3, 1, 2}."},
    {"squeeze", l_squeeze, "x:squeeze([d]) -> tensor",
     "A view without size-1 dims (or only dim d)."},
    {"unsqueeze", l_unsqueeze, "x:unsqueeze(d) -> tensor",
     "A view with a new size-1 dim at position d (1..dim+1; -1 is last)."},
    {"expand", l_expand, "x:expand(...) -> tensor",
     "A view repeating size-1 dims to the given sizes without copying (-1 keeps a size)."},
    {"narrow", l_narrow, "x:narrow(d, start, len) -> tensor",
     "A view of len elements of dim d from start (1-based)."},
    {"select", l_select, "x:select(d, i) -> tensor",
     "A view of index i (1-based, negative from the end) of dim d, without that dim; x[i] is "
     "x:select(1, i)."},
    {NULL, NULL, NULL, NULL}};

static const lnn_reg fills[] = {
    {"fill_", l_fill_, "x:fill_(v) -> x", "Sets every element to v."},
    {"zero_", l_zero_, "x:zero_() -> x", "Sets every element to 0."},
    {"copy_", l_copy_, "x:copy_(src) -> x",
     "Copies src into x (src broadcasts to x's shape; dtypes convert)."},
    {"uniform_", l_uniform_, "x:uniform_([lo [, hi]]) -> x",
     "Fills with uniform random numbers in [lo, hi) (default [0, 1))."},
    {"normal_", l_normal_, "x:normal_([mean [, std]]) -> x",
     "Fills with normal random numbers (default mean 0, std 1)."},
    {NULL, NULL, NULL, NULL}};

void lnn_open_shape(lua_State *L) {
  lnn_register(L, "Tensor facts", LNN_METHOD, facts);
  /* shape is a field (its value is callable, so x:shape() works too) */
  lua_getfield(L, LUA_REGISTRYINDEX, "nn.methods");
  lua_pushnil(L);
  lua_setfield(L, -2, "shape");
  lua_pop(L, 1);
  lnn_getter(L, "shape", l_shape);
  lnn_getter(L, "ndim", get_ndim);
  lnn_getter(L, "T", get_T);
  lnn_register(L, "Conversions", LNN_METHOD, conversions);
  for (size_t k = 0; k < sizeof fixed_conversions / sizeof *fixed_conversions; k++) {
    lua_pushinteger(L, fixed_conversions[k].dt);
    lua_pushcclosure(L, l_to_fixed, 1);
    lnn_register_top(L, "Conversions", LNN_METHOD, &fixed_conversions[k].reg);
  }
  lnn_register(L, "Views", LNN_METHOD, views);
  lnn_register(L, "Filling", LNN_METHOD, fills);
}
