/*
** nn/lua/lextra.c: nn.arange (half-open, as PyTorch), the *_like constructors, the tests
** all, any, isnan, isinf and allclose, and the fused kernels under nn.utils'
** gradient clipping (stdlib/nn/utils.lua).
*/
#include <math.h>

#include <lauxlib.h>

#include "nn/clip.h"
#include "nn/lua/lnn.h"
#include "nn/ops.h"

/* nn.arange(n) or nn.arange(start, stop [, step]) [, dtype]: start, start+step, ... < stop */
static int l_arange(lua_State *L) {
  int nnum = 0;
  while (nnum < 3 && lua_type(L, nnum + 1) == LUA_TNUMBER) nnum++;
  if (nnum == 0) return lnn_argerror(L, 1, "a number");
  double a = nnum == 1 ? 0 : lua_tonumber(L, 1), b = lua_tonumber(L, nnum == 1 ? 1 : 2);
  double step = nnum == 3 ? lua_tonumber(L, 3) : 1;
  bool integers = true;
  for (int k = 1; k <= nnum; k++) integers = integers && lua_isinteger(L, k);
  nn_dtype dt = lnn_optdtype(L, nnum + 1, integers ? NN_I64 : NN_F32);
  if (!isfinite(a) || !isfinite(b) || !isfinite(step))
    return lnn_errorf(L, "start, stop and step must be finite (got %g, %g, %g)", a, b, step);
  if (step == 0) return lnn_errorf(L, "step must not be zero");
  double count = ceil((b - a) / step);
  if (count > 1e12) return lnn_errorf(L, "%.0f elements are too many", count);
  if (count <= 0) {
    lnn_push(L, nn_empty(dt, 1, (int64_t[]){0}));
    return 1;
  }
  lnn_push(L, nn_arange(a, a + (count - 1) * step, step, dt));
  return 1;
}

/* ---- *_like ---- */

enum { LIKE_EMPTY, LIKE_ZEROS, LIKE_ONES, LIKE_FULL, LIKE_RAND, LIKE_RANDN };

static int like(lua_State *L) {
  int kind = (int)lua_tointeger(L, lua_upvalueindex(1));
  nn_tensor *x = lnn_check(L, 1);
  int dtarg = kind == LIKE_FULL ? 3 : 2;
  double v = kind == LIKE_FULL ? lnn_checkscalar(L, 2) : kind == LIKE_ONES ? 1 : 0;
  nn_dtype dt = lnn_optdtype(L, dtarg, x->dtype);
  if ((kind == LIKE_RAND || kind == LIKE_RANDN) && !nn_dtype_is_float(dt))
    return lnn_errorf(L, "needs a float dtype (f32 or f64), got %s", nn_dtype_name(dt));
  lnn_push(L, nn_empty(dt, x->ndim, x->shape));
  nn_tensor *t = lnn_check(L, -1);
  if (kind == LIKE_RAND && nn_rand_(t) < 0) return lnn_error(L, NULL);
  if (kind == LIKE_RANDN && nn_randn_(t) < 0) return lnn_error(L, NULL);
  if (kind == LIKE_FULL)
    lnn_fill(L, t, 2, v);
  else if (kind != LIKE_EMPTY && kind != LIKE_RAND && kind != LIKE_RANDN)
    nn_fill_(t, v);
  return 1;
}

static const lnn_reg likes[] = {
    {"empty_like", NULL, "nn.empty_like(x [, dtype]) -> tensor",
     "An uninitialized tensor of x's shape (and dtype, unless given)."},
    {"zeros_like", NULL, "nn.zeros_like(x [, dtype]) -> tensor",
     "Zeros of x's shape (and dtype, unless given), as torch.zeros_like."},
    {"ones_like", NULL, "nn.ones_like(x [, dtype]) -> tensor",
     "Ones of x's shape (and dtype, unless given)."},
    {"full_like", NULL, "nn.full_like(x, v [, dtype]) -> tensor",
     "x's shape (and dtype, unless given) filled with v."},
    {"rand_like", NULL, "nn.rand_like(x [, dtype]) -> tensor",
     "Uniform [0, 1) numbers of x's shape (float dtypes)."},
    {"randn_like", NULL, "nn.randn_like(x [, dtype]) -> tensor",
     "Standard normal numbers of x's shape (float dtypes)."},
};

/* ---- tests ---- */

/* x:all() / x:any(): a Lua boolean (a tensor would always be true in an if); with dim, a
   u8 mask reduced over dim */
static int truth(lua_State *L, nn_tensor *(*f)(nn_tensor *, int, bool)) {
  nn_tensor *x = lnn_check(L, 1);
  if (lua_isnoneornil(L, 2)) {
    nn_tensor *r = f(x, -1, false);
    if (!r) return lnn_error(L, NULL);
    lua_pushboolean(L, *(uint8_t *)nn_data(r) != 0);
    nn_release(r);
    return 1;
  }
  int d = lnn_checkdim(L, 2, x->ndim);
  lnn_push(L, f(x, d, lnn_optboolean(L, 3, false)));
  return 1;
}

static int l_all(lua_State *L) {
  return truth(L, nn_all);
}
static int l_any(lua_State *L) {
  return truth(L, nn_any);
}
static int l_isnan(lua_State *L) {
  lnn_push(L, nn_isnan(lnn_check(L, 1)));
  return 1;
}
static int l_isinf(lua_State *L) {
  lnn_push(L, nn_isinf(lnn_check(L, 1)));
  return 1;
}

static int l_allclose(lua_State *L) {
  nn_tensor *a = lnn_totensor(L, 1, NULL), *b = lnn_totensor(L, 2, NULL);
  double rtol = lnn_optnumber(L, 3, 1e-5), atol = lnn_optnumber(L, 4, 1e-8);
  bool close = false;
  int rc = nn_allclose(a, b, rtol, atol, &close);
  nn_release(a), nn_release(b);
  if (rc < 0) return lnn_error(L, NULL);
  lua_pushboolean(L, close);
  return 1;
}

/* torch.equal: the same shape and the same values (dtypes promoted; nan equals nothing) */
static int l_equal(lua_State *L) {
  nn_tensor *a = lnn_check(L, 1), *b = lnn_check(L, 2);
  if (!nn_same_shape(a, b)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  nn_tensor *eq = nn_eq(a, b), *all = eq ? nn_all(eq, -1, false) : NULL;
  bool same = all && *(uint8_t *)nn_data(all) != 0;
  nn_release(eq), nn_release(all);
  if (!all) return lnn_error(L, NULL);
  lua_pushboolean(L, same);
  return 1;
}

static const lnn_reg tests[] = {
    {"all", l_all, "x:all([dim [, keepdim]]) -> boolean or mask",
     "Whether every element is non-zero: a Lua boolean without dim, a u8 mask over dim."},
    {"any", l_any, "x:any([dim [, keepdim]]) -> boolean or mask",
     "Whether some element is non-zero: a Lua boolean without dim, a u8 mask over dim."},
    {"isnan", l_isnan, "x:isnan() -> mask", "1 where x is nan, else 0 (a u8 mask)."},
    {"isinf", l_isinf, "x:isinf() -> mask", "1 where x is +inf or -inf, else 0 (a u8 mask)."},
    {"allclose", l_allclose, "nn.allclose(a, b [, rtol=1e-5 [, atol=1e-8]]) -> boolean",
     "Whether |a - b| <= atol + rtol |b| everywhere (a and b broadcast; nan is never close)."},
    {"equal", l_equal, "nn.equal(a, b) -> boolean",
     "Whether a and b have the same shape and values (dtypes promoted, no broadcasting; nan "
     "equals nothing), as torch.equal; also a:equal(b)."},
    {NULL, NULL, NULL, NULL}};

/* ---- gradient clipping kernels ---- */

enum { MAX_GRADS = 4096 };

/* the tensors of the list at arg (references borrowed from the list) */
static int grad_list(lua_State *L, int arg, nn_tensor **g) {
  luaL_checktype(L, arg, LUA_TTABLE);
  int n = (int)lua_rawlen(L, arg);
  if (n > MAX_GRADS) return lnn_errorf(L, "%d gradients (at most %d)", n, MAX_GRADS);
  for (int k = 0; k < n; k++) {
    lua_rawgeti(L, arg, k + 1);
    g[k] = lnn_test(L, -1);
    if (!g[k]) lnn_errorf(L, "gradient %d is a %s, not a tensor", k + 1, luaL_typename(L, -1));
    lua_pop(L, 1); /* the list keeps it */
  }
  return n;
}

/* nn._clip_grad_norm(grads, max_norm, p) -> total: grads scaled by max_norm / (total +
   1e-6) when that is below 1, as torch.nn.utils.clip_grad_norm_ */
static int l_clip_grad_norm(lua_State *L) {
  double max_norm = lnn_checknumber(L, 2), p = lnn_optnumber(L, 3, 2), total;
  nn_tensor *g[MAX_GRADS];
  int n = grad_list(L, 1, g);
  if (nn_grads_norm(n, g, p, &total) < 0) return lnn_error(L, NULL);
  double coef = max_norm / (total + 1e-6);
  if (coef < 1 && nn_grads_scale_(n, g, coef) < 0) return lnn_error(L, NULL);
  lua_pushnumber(L, total);
  return 1;
}

static int l_clip_grad_value(lua_State *L) {
  double v = lnn_checknumber(L, 2);
  nn_tensor *g[MAX_GRADS];
  int n = grad_list(L, 1, g);
  if (nn_grads_clamp_(n, g, v) < 0) return lnn_error(L, NULL);
  return 0;
}

/* nn._defer_interrupt(on) -> previous: Ctrl-C deferred to nn._interrupt_requested() polls */
static int l_defer_interrupt(lua_State *L) {
  lua_pushboolean(L, nn_interrupt_deferred);
  nn_interrupt_deferred = lua_toboolean(L, 1);
  if (!nn_interrupt_deferred) nn_interrupt_requested = 0;
  return 1;
}

/* nn._interrupt_requested() -> whether a deferred Ctrl-C came (and clears it) */
static int l_interrupt_requested(lua_State *L) {
  lua_pushboolean(L, nn_interrupt_requested);
  nn_interrupt_requested = 0;
  return 1;
}

static const lnn_reg clips[] = {
    {"_defer_interrupt", l_defer_interrupt, "nn._defer_interrupt(on) -> previous",
     "While on, the first Ctrl-C only sets a flag that nn._interrupt_requested() reads (nn.fit "
     "stops between batches); a second one interrupts at once."},
    {"_interrupt_requested", l_interrupt_requested, "nn._interrupt_requested() -> boolean",
     "Whether a deferred Ctrl-C came since the last call."},
    {"_clip_grad_norm", l_clip_grad_norm, "nn._clip_grad_norm(grads, max_norm [, p]) -> total",
     "The kernel of nn.utils.clip_grad_norm_: one pass to measure, one to scale."},
    {"_clip_grad_value", l_clip_grad_value, "nn._clip_grad_value(grads, v)",
     "The kernel of nn.utils.clip_grad_value_: every gradient clamped to [-v, v] in place."},
    {NULL, NULL, NULL, NULL}};

void lnn_open_extra(lua_State *L) {
  lnn_register(L, "Creation", LNN_FUNC,
               (const lnn_reg[]){{"arange", l_arange,
                                  "nn.arange(n) or nn.arange(start, stop [, step]) [, dtype]",
                                  "start, start+step, ... below stop (half-open, as torch.arange; "
                                  "nn.range includes b); i64 when all are integers."},
                                 {NULL, NULL, NULL, NULL}});
  for (size_t k = 0; k < sizeof likes / sizeof *likes; k++) {
    lua_pushinteger(L, (lua_Integer)k);
    lua_pushcclosure(L, like, 1);
    lnn_register_top(L, "Creation", LNN_FUNC, &likes[k]);
  }
  lnn_register(L, "Comparison", LNN_BOTH, tests);
  lnn_register(L, "Utilities", LNN_FUNC, clips);
}
