/*
** nn/lua/lreduce.c: reductions, over one dim (1-based, optional) or over everything.
** Index results (argmax, x:max(d)) come back 1-based.
*/
#include <lauxlib.h>

#include "nn/lua/lnn.h"
#include "nn/ops.h"

typedef nn_tensor *(*reduce_fn)(nn_tensor *x, int dim, bool keepdim);

/* Pushes r, x reduced over dim (-1: everything), 1-based if it holds indices. With keepdim
   and no dim, PyTorch keeps every dim at size 1 where the core gives a 0-dim tensor. */
static void push_reduced(lua_State *L, nn_tensor *r, const nn_tensor *x, int dim, bool keepdim,
                         bool index) {
  if (r && dim < 0 && keepdim) {
    int64_t ones[NN_MAXDIM];
    for (int d = 0; d < x->ndim; d++) ones[d] = 1;
    nn_tensor *v = nn_t_view(r, x->ndim, ones);
    nn_release(r);
    r = v;
  }
  if (index)
    lnn_push_index1(L, r);
  else
    lnn_push(L, r);
}

/* Reads (x, [dim [, keepdim]]) from arg 1, calls f, pushes the result (1-based if index). */
static int reduce_with(lua_State *L, reduce_fn f, bool index) {
  nn_tensor *x = lnn_check(L, 1);
  int dim = lnn_optdim(L, 2, x->ndim, -1);
  bool keepdim = lnn_optboolean(L, 3, false);
  push_reduced(L, f(x, dim, keepdim), x, dim, keepdim, index);
  return 1;
}

static const struct {
  lnn_reg reg;
  reduce_fn f;
  bool index;
} simple[] = {
    {{"sum", NULL, "x:sum([dim [, keepdim]]) -> tensor",
      "The sum over dim, or over everything (a 0-dim tensor)."},
     nn_sum,
     false},
    {{"mean", NULL, "x:mean([dim [, keepdim]]) -> tensor",
      "The mean over dim, or over everything (float tensors)."},
     nn_mean,
     false},
    {{"prod", NULL, "x:prod([dim [, keepdim]]) -> tensor",
      "The product over dim, or over everything."},
     nn_prod,
     false},
    {{"logsumexp", NULL, "x:logsumexp([dim [, keepdim]]) -> tensor",
      "log(sum(exp(x))) over dim or everything, computed without overflow."},
     nn_logsumexp,
     false},
    {{"argmax", NULL, "x:argmax([dim [, keepdim]]) -> tensor",
      "The 1-based index of the largest value along dim (i64); without dim, the flat index "
      "into all elements (0-dim)."},
     nn_argmax,
     true},
    {{"argmin", NULL, "x:argmin([dim [, keepdim]]) -> tensor",
      "The 1-based index of the smallest value along dim (i64); without dim, the flat index."},
     nn_argmin,
     true},
};

static int l_reduce(lua_State *L) {
  int k = (int)lua_tointeger(L, lua_upvalueindex(1));
  return reduce_with(L, simple[k].f, simple[k].index);
}

/* var and std: (x, [dim [, keepdim [, unbiased]]]) or (x, unbiased) over everything */
static int spread(lua_State *L, nn_tensor *(*f)(nn_tensor *, int, bool, bool)) {
  nn_tensor *x = lnn_check(L, 1);
  bool unbiased = true;
  if (lua_type(L, 2) == LUA_TBOOLEAN) {
    unbiased = lua_toboolean(L, 2);
    lua_settop(L, 1);
  } else {
    unbiased = lnn_optboolean(L, 4, true);
  }
  int dim = lnn_optdim(L, 2, x->ndim, -1);
  bool keepdim = lnn_optboolean(L, 3, false);
  push_reduced(L, f(x, dim, keepdim, unbiased), x, dim, keepdim, false);
  return 1;
}

static int l_var(lua_State *L) {
  return spread(L, nn_var);
}
static int l_std(lua_State *L) {
  return spread(L, nn_std);
}

static int l_norm(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  double p = lnn_optnumber(L, 2, 2);
  int dim = lnn_optdim(L, 3, x->ndim, -1);
  bool keepdim = lnn_optboolean(L, 4, false);
  push_reduced(L, nn_norm(x, p, dim, keepdim), x, dim, keepdim, false);
  return 1;
}

/* x:max() -> value; x:max(d [, keepdim]) -> values, indices; x:max(y) -> maximum(x, y) */
static int extreme(lua_State *L, nn_tensor *(*f)(nn_tensor *, int, bool, nn_tensor **),
                   const nn_op *pairwise) {
  nn_tensor *x = lnn_check(L, 1);
  nn_tensor *y = lnn_test(L, 2);
  if (y) {
    lnn_push(L, nn_call(pairwise, (nn_tensor *[]){x, y}, NULL));
    return 1;
  }
  if (lua_isnoneornil(L, 2)) {
    lnn_push(L, f(x, -1, false, NULL));
    return 1;
  }
  int dim = lnn_checkdim(L, 2, x->ndim);
  nn_tensor *idx = NULL;
  nn_tensor *v = f(x, dim, lnn_optboolean(L, 3, false), &idx);
  lnn_push(L, v);
  lnn_push_index1(L, idx);
  return 2;
}

static int l_max(lua_State *L) {
  return extreme(L, nn_max, &nn_op_maximum);
}
static int l_min(lua_State *L) {
  return extreme(L, nn_min, &nn_op_minimum);
}

static const lnn_reg others[] = {
    {"var", l_var, "x:var([dim [, keepdim [, unbiased]]]) -> tensor",
     "The variance over dim or everything; unbiased (n - 1) unless unbiased is false. "
     "x:var(false) is the biased variance of everything."},
    {"std", l_std, "x:std([dim [, keepdim [, unbiased]]]) -> tensor",
     "The standard deviation, like var."},
    {"norm", l_norm, "x:norm([p [, dim [, keepdim]]]) -> tensor",
     "The p-norm (default 2; math.huge for the max norm) over dim or everything."},
    {"max", l_max, "x:max([dim [, keepdim]]) -> values [, indices]",
     "The largest value; with dim, the values and their 1-based indices along dim; "
     "x:max(y) is x:maximum(y)."},
    {"min", l_min, "x:min([dim [, keepdim]]) -> values [, indices]",
     "The smallest value; with dim, the values and their 1-based indices along dim; "
     "x:min(y) is x:minimum(y)."},
    {NULL, NULL, NULL, NULL}};

void lnn_open_reduce(lua_State *L) {
  for (size_t k = 0; k < sizeof simple / sizeof *simple; k++) {
    lua_pushinteger(L, (lua_Integer)k);
    lua_pushcclosure(L, l_reduce, 1);
    lnn_register_top(L, "Reductions", LNN_BOTH, &simple[k].reg);
  }
  lnn_register(L, "Reductions", LNN_BOTH, others);
}
