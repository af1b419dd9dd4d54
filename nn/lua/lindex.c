/*
** nn/lua/lindex.c: indexing with index tensors, masks, joining. The user's indices are
** 1-based; the core's are 0-based, and its messages add the 1 back, so a bad index is
** reported as the user wrote it.
*/
#include <lauxlib.h>

#include "nn/lua/lnn.h"
#include "nn/ops.h"

/* idx + by, as a new tensor (NULL after an error) */
static nn_tensor *shifted(nn_tensor *idx, int64_t by) {
  nn_tensor *s = nn_scalar(NN_I64, (double)by);
  nn_tensor *r = s ? nn_add(idx, s) : NULL;
  nn_release(s);
  return r;
}

/* A flat table of integers as a 0-based 1-D i64 tensor; checked before allocating. */
static nn_tensor *table_index0(lua_State *L, int arg) {
  int64_t n = (int64_t)lua_rawlen(L, arg);
  for (int64_t k = 1; k <= n; k++) {
    lua_rawgeti(L, arg, k);
    int ok = 0;
    if (lua_type(L, -1) == LUA_TNUMBER) lua_tointegerx(L, -1, &ok);
    if (!ok)
      lnn_errorf(L, "index [%lld] of the table is a %s, expected an integer", (long long)k,
                 lua_type(L, -1) == LUA_TNUMBER ? "non-integer number" : luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  nn_tensor *t = nn_empty(NN_I64, 1, &n);
  if (!t) lnn_error(L, NULL);
  int64_t *p = (int64_t *)nn_data(t);
  for (int64_t k = 1; k <= n; k++) {
    lua_rawgeti(L, arg, k);
    p[k - 1] = lua_tointeger(L, -1) - 1;
    lua_pop(L, 1);
  }
  return t;
}

nn_tensor *lnn_index0(lua_State *L, int arg) {
  nn_tensor *idx = lnn_test(L, arg), *r = NULL;
  if (idx) {
    if (idx->dtype != NN_I64)
      lnn_errorf(L, "indices must be an i64 tensor, got %s (convert with x:long())",
                 nn_dtype_name(idx->dtype));
    r = shifted(idx, -1);
  } else if (lua_type(L, arg) == LUA_TNUMBER) {
    r = nn_scalar(NN_I64, (double)(lnn_checkinteger(L, arg) - 1));
  } else if (lua_type(L, arg) == LUA_TTABLE) {
    return table_index0(L, arg);
  } else {
    lnn_argerror(L, arg, "indices (an i64 tensor, an integer or a table of integers)");
  }
  if (!r) lnn_error(L, NULL);
  return r;
}

void lnn_push_index1(lua_State *L, nn_tensor *idx) {
  nn_tensor *r = idx ? shifted(idx, 1) : NULL;
  nn_release(idx);
  lnn_push(L, r);
}

/* ---- index tensors ---- */

/* x:gather(d, idx) and x:index_select(d, idx): f(x, d, idx) with idx made 0-based */
static int indexed(lua_State *L, nn_tensor *(*f)(nn_tensor *, int, nn_tensor *)) {
  nn_tensor *x = lnn_check(L, 1);
  int d = lnn_checkdim(L, 2, x->ndim);
  nn_tensor *idx = lnn_index0(L, 3), *r = f(x, d, idx);
  nn_release(idx);
  lnn_push(L, r);
  return 1;
}

static int l_gather(lua_State *L) {
  return indexed(L, nn_gather);
}
static int l_index_select(lua_State *L) {
  return indexed(L, nn_index_select);
}

static int l_index_add_(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  int d = lnn_checkdim(L, 2, x->ndim);
  nn_tensor *src = lnn_check(L, 4), *idx = lnn_index0(L, 3);
  int rc = nn_index_add_(x, d, idx, src);
  nn_release(idx);
  if (rc < 0) return lnn_error(L, NULL);
  lua_settop(L, 1);
  return 1;
}

static int l_masked_fill(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1), *mask = lnn_check(L, 2);
  lnn_push(L, nn_masked_fill(x, mask, lnn_checkscalar(L, 3)));
  return 1;
}

static int l_masked_fill_(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1), *mask = lnn_check(L, 2);
  lnn_check_inplace(L, x, NULL);
  nn_tensor *r = nn_masked_fill(x, mask, lnn_checkscalar(L, 3));
  if (!r) return lnn_error(L, NULL);
  int rc = nn_copy_(x, r);
  nn_release(r);
  if (rc < 0) return lnn_error(L, NULL);
  lua_settop(L, 1);
  return 1;
}

static int l_one_hot(lua_State *L) {
  lnn_check(L, 1);
  lua_Integer n = lnn_optinteger(L, 2, -1);
  if (n < 1 && !lua_isnoneornil(L, 2))
    return lnn_errorf(L, "the number of classes must be at least 1, got %lld", (long long)n);
  nn_tensor *idx = lnn_index0(L, 1), *r = nn_one_hot(idx, n);
  nn_release(idx);
  lnn_push(L, r);
  return 1;
}

/* ---- joining ---- */

static int joined(lua_State *L, bool stack) {
  lua_settop(L, 2);
  if (lua_type(L, 1) != LUA_TTABLE) return lnn_argerror(L, 1, "a list of tensors");
  int n = (int)lua_rawlen(L, 1), ndim = 0;
  if (n == 0) return lnn_errorf(L, "needs a non-empty list of tensors");
  nn_tensor **xs = lua_newuserdatauv(L, (size_t)n * sizeof *xs, 0);
  for (int k = 0; k < n; k++) {
    lua_rawgeti(L, 1, k + 1);
    if (!(xs[k] = lnn_test(L, -1)))
      return lnn_errorf(L, "element %d of the list is a %s, not a tensor", k + 1,
                        luaL_typename(L, -1));
    ndim = xs[k]->ndim > ndim ? xs[k]->ndim : ndim;
    lua_pop(L, 1);
  }
  int dim = lnn_optdim(L, 2, ndim + (stack ? 1 : 0), 0);
  lnn_push(L, stack ? nn_stack(xs, n, dim) : nn_cat(xs, n, dim));
  return 1;
}

static int l_cat(lua_State *L) {
  return joined(L, false);
}
static int l_stack(lua_State *L) {
  return joined(L, true);
}

static const lnn_reg both[] = {
    {"gather", l_gather, "x:gather(d, idx) -> tensor",
     "out[i][j] = x[idx[i][j]][j] for d = 1 (and likewise for other dims); idx is i64, 1-based."},
    {"index_select", l_index_select, "x:index_select(d, idx) -> tensor",
     "The slices idx (1-based i64, a number or a table) of dim d, in that order."},
    {"masked_fill", l_masked_fill, "x:masked_fill(mask, v) -> tensor",
     "A copy of x with v where the u8 mask (broadcast to x) is non-zero."},
    {NULL, NULL, NULL, NULL}};

static const lnn_reg methods[] = {
    {"index_add_", l_index_add_, "x:index_add_(d, idx, src) -> x",
     "Adds slice k of src into slice idx[k] (1-based) of x along dim d."},
    {"masked_fill_", l_masked_fill_, "x:masked_fill_(mask, v) -> x", "masked_fill in place."},
    {NULL, NULL, NULL, NULL}};

static const lnn_reg functions[] = {
    {"cat", l_cat, "nn.cat(list [, dim]) -> tensor",
     "The tensors of list joined along dim (default 1); other sizes must match."},
    {"stack", l_stack, "nn.stack(list [, dim]) -> tensor",
     "Tensors of one shape stacked along a new dim (default 1)."},
    {"one_hot", l_one_hot, "nn.one_hot(idx [, n]) -> tensor",
     "i64 one-hot rows for 1-based classes idx (n classes; default the largest index)."},
    {NULL, NULL, NULL, NULL}};

void lnn_open_index(lua_State *L) {
  lnn_register(L, "Indexing and joining", LNN_BOTH, both);
  lnn_register(L, "Indexing and joining", LNN_METHOD, methods);
  lnn_register(L, "Indexing and joining", LNN_FUNC, functions);
}
