/*
** nn/lua/lops.c: sort, topk, cumsum, cumprod, tril, triu, flip, roll, repeat_interleave,
** dot, chunk and split, as PyTorch spells them, with 1-based dims and indices.
*/
#include <lauxlib.h>

#include "nn/lua/lnn.h"
#include "nn/ops.h"

/* the dim at arg (1-based), or the last one; a 0-dim tensor has dim 1 */
static int dim_or_last(lua_State *L, int arg, const nn_tensor *x) {
  if (x->ndim == 0) {
    if (!lua_isnoneornil(L, arg)) {
      lua_Integer d = lnn_checkinteger(L, arg);
      if (d != 1 && d != -1) lnn_errorf(L, "dim %lld is out of range for a 0-dim tensor", d);
    }
    return 0;
  }
  return lnn_optdim(L, arg, x->ndim, x->ndim - 1);
}

/* values, then 1-based indices (outside the graph: the indices are constants) */
static int push_pair(lua_State *L, nn_tensor *v, nn_tensor *idx) {
  if (!v) return lnn_error(L, NULL);
  lnn_push(L, v);
  nn_tensor *plain = nn_alias(idx);
  nn_release(idx);
  lnn_push_index1(L, plain);
  return 2;
}

/* x:sort([dim [, descending]]); x:sort(true) sorts the last dim descending */
static int l_sort(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  if (lua_isboolean(L, 2)) lua_insert(L, 2), lua_pushnil(L), lua_insert(L, 2);
  int d = dim_or_last(L, 2, x);
  lnn_gc_before_like(L, x, 3, 1); /* the values and their i64 indices (f32: 4 + 8 bytes) */
  nn_tensor *idx = NULL, *v = nn_sort(x, d, lnn_optboolean(L, 3, false), &idx);
  return push_pair(L, v, idx);
}

static int l_topk(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  lua_Integer k = lnn_checkinteger(L, 2);
  int d = dim_or_last(L, 3, x);
  int64_t n = x->ndim ? x->shape[d] : 1;
  if (k < 0 || k > n)
    return lnn_errorf(L, "k %lld is out of range for dim %d of size %lld (shape %s)", k, d + 1,
                      (long long)n, nn_shape_str(x));
  nn_tensor *idx = NULL, *v = nn_topk(x, k, d, lnn_optboolean(L, 4, true), &idx);
  return push_pair(L, v, idx);
}

/* f(x, dim) with dim required (as PyTorch) */
static int along(lua_State *L, nn_tensor *(*f)(nn_tensor *, int)) {
  nn_tensor *x = lnn_check(L, 1);
  if (lua_isnoneornil(L, 2)) return lnn_errorf(L, "needs a dim (1 to %d)", x->ndim ? x->ndim : 1);
  lnn_gc_before_like(L, x, 1, 1);
  lnn_push(L, f(x, x->ndim ? lnn_checkdim(L, 2, x->ndim) : dim_or_last(L, 2, x)));
  return 1;
}

static int l_cumsum(lua_State *L) {
  return along(L, nn_cumsum);
}
static int l_cumprod(lua_State *L) {
  return along(L, nn_cumprod);
}

static int l_tril(lua_State *L) {
  lnn_gc_before_like(L, lnn_check(L, 1), 1, 1);
  lnn_push(L, nn_tril(lnn_check(L, 1), lnn_optinteger(L, 2, 0)));
  return 1;
}
static int l_triu(lua_State *L) {
  lnn_gc_before_like(L, lnn_check(L, 1), 1, 1);
  lnn_push(L, nn_triu(lnn_check(L, 1), lnn_optinteger(L, 2, 0)));
  return 1;
}

/* the integers at arg: one, a table of them, or (from) the varargs from arg on */
static int int_list(lua_State *L, int arg, lua_Integer *out, int max) {
  int n = 0;
  if (lua_istable(L, arg)) {
    n = (int)lua_rawlen(L, arg);
    if (n > max) lnn_errorf(L, "%d values given, at most %d", n, max);
    for (int k = 0; k < n; k++) {
      lua_rawgeti(L, arg, k + 1);
      out[k] = lnn_checkinteger(L, -1);
      lua_pop(L, 1);
    }
    return n;
  }
  out[n++] = lnn_checkinteger(L, arg);
  return n;
}

/* a 1-based dim value as 0-based, checked */
static int dim0(lua_State *L, lua_Integer d, const nn_tensor *x) {
  int64_t k = d < 0 ? d + x->ndim : d - 1;
  if (k < 0 || k >= x->ndim)
    lnn_errorf(L, "dim %lld is out of range for a tensor of shape %s", d, nn_shape_str(x));
  return (int)k;
}

/* x:flip(dims): dims a number, a table or several numbers */
static int l_flip(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  lua_Integer dims[NN_MAXDIM];
  int n = 0;
  if (lua_istable(L, 2))
    n = int_list(L, 2, dims, NN_MAXDIM);
  else
    for (int a = 2; !lua_isnone(L, a) && n < NN_MAXDIM; a++) dims[n++] = lnn_checkinteger(L, a);
  if (n == 0) return lnn_errorf(L, "needs the dims to flip (e.g. x:flip(1) or x:flip{1, 2})");
  lnn_gc_before_like(L, x, 1, 1);
  nn_tensor *r = nn_retain(x);
  for (int k = 0; r && k < n; k++) {
    nn_tensor *next = x->ndim ? nn_flip(r, dim0(L, dims[k], x)) : nn_retain(r);
    nn_release(r);
    r = next;
  }
  lnn_push(L, r);
  return 1;
}

/* x:roll(shifts [, dims]): without dims the flattened tensor is rolled, as PyTorch */
static int l_roll(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  lua_Integer shifts[NN_MAXDIM], dims[NN_MAXDIM];
  int ns = int_list(L, 2, shifts, NN_MAXDIM), nd = 0;
  lnn_gc_before_like(L, x, 1, 1);
  if (lua_isnoneornil(L, 3)) {
    if (ns != 1) return lnn_errorf(L, "%d shifts but no dims", ns);
    int64_t numel = nn_numel(x);
    nn_tensor *flat = nn_t_reshape(x, 1, &numel), *r = flat ? nn_roll(flat, shifts[0], 0) : NULL;
    nn_tensor *back = r ? nn_t_reshape(r, x->ndim, x->shape) : NULL;
    nn_release(flat), nn_release(r);
    lnn_push(L, back);
    return 1;
  }
  nd = int_list(L, 3, dims, NN_MAXDIM);
  if (nd != ns) return lnn_errorf(L, "%d shifts for %d dims (give one per dim)", ns, nd);
  nn_tensor *r = nn_retain(x);
  for (int k = 0; r && k < nd; k++) {
    nn_tensor *next = nn_roll(r, shifts[k], dim0(L, dims[k], x));
    nn_release(r);
    r = next;
  }
  lnn_push(L, r);
  return 1;
}

/* repeats: a number, a table of counts or an integer tensor, as a new i64 tensor */
static nn_tensor *counts_of(lua_State *L, int arg) {
  nn_tensor *t = lnn_test(L, arg);
  if (t) return nn_retain(t);
  if (lua_type(L, arg) == LUA_TNUMBER) return nn_scalar(NN_I64, (double)lnn_checkinteger(L, arg));
  if (!lua_istable(L, arg)) lnn_argerror(L, arg, "a count, a table of counts or an i64 tensor");
  int64_t n = (int64_t)lua_rawlen(L, arg);
  nn_tensor *c = nn_empty(NN_I64, 1, &n);
  for (int64_t k = 0; c && k < n; k++) {
    lua_rawgeti(L, arg, k + 1);
    int ok;
    ((int64_t *)nn_data(c))[k] = lua_tointegerx(L, -1, &ok);
    lua_pop(L, 1);
    if (!ok) {
      nn_release(c);
      lnn_errorf(L, "repeats[%lld] is not an integer", (long long)k + 1);
    }
  }
  return c;
}

/* x:repeat_interleave(repeats [, dim]): without dim, over the flattened tensor */
static int l_repeat_interleave(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  int64_t numel = nn_numel(x);
  bool flat = lua_isnoneornil(L, 3);
  int d = flat ? 0 : lnn_checkdim(L, 3, x->ndim);
  nn_tensor *counts = counts_of(L, 2);
  nn_tensor *src = flat ? nn_t_reshape(x, 1, &numel) : nn_retain(x);
  nn_tensor *r = src && counts ? nn_repeat_interleave(src, counts, d) : NULL;
  nn_release(src), nn_release(counts);
  lnn_push(L, r);
  return 1;
}

static int l_dot(lua_State *L) {
  lnn_push(L, nn_dot(lnn_check(L, 1), lnn_check(L, 2)));
  return 1;
}

/* pushes the list of views of x along d of the given sizes (which sum to its size) */
static int push_pieces(lua_State *L, nn_tensor *x, int d, const int64_t *sizes, int64_t n) {
  lua_createtable(L, (int)n, 0);
  int64_t start = 0;
  for (int64_t k = 0; k < n; k++) {
    lnn_push(L, nn_t_narrow(x, d, start, sizes[k]));
    lua_rawseti(L, -2, k + 1);
    start += sizes[k];
  }
  return 1;
}

enum { MAX_PIECES = 4096 };

/* pieces of size `size` > 0 (the last smaller); an empty dim gives one empty piece */
static int push_even(lua_State *L, nn_tensor *x, int d, int64_t size) {
  int64_t total = x->shape[d], n = total == 0 ? 1 : (total + size - 1) / size; /* as PyTorch */
  if (n > MAX_PIECES) return lnn_errorf(L, "%lld pieces (at most %d)", (long long)n, MAX_PIECES);
  int64_t sizes[MAX_PIECES];
  for (int64_t k = 0; k < n; k++) sizes[k] = k + 1 < n ? size : total - k * size;
  return push_pieces(L, x, d, sizes, n);
}

/* x:chunk(n [, dim]): n pieces of ceil(size / n) (fewer when they run out), as PyTorch */
static int l_chunk(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  lua_Integer n = lnn_checkinteger(L, 2);
  if (x->ndim == 0) return lnn_errorf(L, "cannot chunk a 0-dim tensor");
  int d = lnn_optdim(L, 3, x->ndim, 0);
  if (n <= 0) return lnn_errorf(L, "the number of chunks must be positive, got %lld", n);
  int64_t size = x->shape[d];
  return push_even(L, x, d, size ? size / n + (size % n != 0) : 1);
}

/* x:split(size [, dim]) or x:split({sizes} [, dim]) */
static int l_split(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  if (x->ndim == 0) return lnn_errorf(L, "cannot split a 0-dim tensor");
  int d = lnn_optdim(L, 3, x->ndim, 0);
  if (!lua_istable(L, 2)) {
    lua_Integer size = lnn_checkinteger(L, 2);
    if (size <= 0 && x->shape[d] > 0)
      return lnn_errorf(L, "the size of a piece must be positive, got %lld", size);
    return push_even(L, x, d, size);
  }
  int64_t n = (int64_t)lua_rawlen(L, 2), sum = 0;
  if (n > MAX_PIECES) return lnn_errorf(L, "%lld pieces (at most %d)", (long long)n, MAX_PIECES);
  int64_t sizes[MAX_PIECES];
  for (int64_t k = 0; k < n; k++) {
    lua_rawgeti(L, 2, k + 1);
    sizes[k] = lnn_checkinteger(L, -1);
    lua_pop(L, 1);
    if (sizes[k] < 0)
      return lnn_errorf(L, "size %lld of piece %lld is negative", (long long)sizes[k],
                        (long long)k + 1);
    sum += sizes[k];
  }
  if (sum != x->shape[d])
    return lnn_errorf(L, "the sizes add up to %lld but dim %d has size %lld (shape %s)",
                      (long long)sum, d + 1, (long long)x->shape[d], nn_shape_str(x));
  return push_pieces(L, x, d, sizes, n);
}

static const lnn_reg sorting[] = {
    {"sort", l_sort, "x:sort([dim=-1 [, descending=false]]) -> values, indices",
     "The values sorted along dim (stable; nan last) and their 1-based i64 indices; "
     "x:sort(true) sorts the last dim largest first. Differentiable in the values."},
    {"topk", l_topk, "x:topk(k [, dim=-1 [, largest=true]]) -> values, indices",
     "The k largest (or smallest) values along dim, in order, and their 1-based i64 indices."},
    {"cumsum", l_cumsum, "x:cumsum(dim) -> tensor",
     "Running sums along dim (integers give i64), as torch.cumsum."},
    {"cumprod", l_cumprod, "x:cumprod(dim) -> tensor",
     "Running products along dim; its gradient is right where x has zeros."},
    {NULL, NULL, NULL, NULL}};

static const lnn_reg rearranging[] = {
    {"tril", l_tril, "x:tril([k=0]) -> tensor",
     "The lower triangle of the last two dims (col - row <= k kept), the rest zero."},
    {"triu", l_triu, "x:triu([k=0]) -> tensor",
     "The upper triangle of the last two dims (col - row >= k kept), the rest zero."},
    {"flip", l_flip, "x:flip(dims) -> tensor",
     "A copy with the order reversed along each of dims (a number or a table, 1-based)."},
    {"roll", l_roll, "x:roll(shifts [, dims]) -> tensor",
     "Elements shifted cyclically by shifts along dims (numbers or tables); without dims, "
     "over the flattened tensor, as torch.roll."},
    {"repeat_interleave", l_repeat_interleave, "x:repeat_interleave(repeats [, dim]) -> tensor",
     "Each slice along dim repeated (repeats: a count, or one per slice as a table or i64 "
     "tensor); without dim, over the flattened tensor."},
    {"chunk", l_chunk, "x:chunk(n [, dim=1]) -> list",
     "Up to n views of x along dim, each of ceil(size / n) (the last smaller), as torch.chunk."},
    {"split", l_split, "x:split(size_or_sizes [, dim=1]) -> list",
     "Views of x along dim: pieces of size (the last smaller), or of the given sizes (a table "
     "adding up to the dim's size)."},
    {NULL, NULL, NULL, NULL}};

static const lnn_reg dots[] = {
    {"dot", l_dot, "nn.dot(u, v) -> tensor",
     "The dot product of two 1-D tensors of one length and dtype (a 0-dim tensor)."},
    {NULL, NULL, NULL, NULL}};

void lnn_open_ops(lua_State *L) {
  lnn_register(L, "Sorting and scans", LNN_BOTH, sorting);
  lnn_register(L, "Rearranging", LNN_BOTH, rearranging);
  lnn_register(L, "Linear algebra", LNN_BOTH, dots);
}
