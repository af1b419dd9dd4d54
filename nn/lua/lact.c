/*
** nn/lua/lact.c: the C entries of the activations with learnable parameters and of the gated
** units (nn/ops/act_param.c, act_rational.c, act_gated.c), behind nn.prelu, nn.swish_beta,
** nn.snake_a, nn.sau, nn.rational, nn.glu ... (stdlib/nn/activations.lua checks the values
** and shapes them, then calls these). The caller's name comes first so that the core's
** messages name the user's function.
*/
#include <lauxlib.h>

#include "nn/lua/lnn.h"
#include "nn/ops.h"

static int push_or_error(lua_State *L, nn_tensor *y, const char *fname) {
  if (!y) return lnn_error(L, fname);
  lnn_push(L, y);
  return 1;
}

/* nn._act_param(fname, op, x, p1 [, p2]): op is prelu, swish_beta, snake_a (one parameter)
   or sau (two) */
static int l_act_param(lua_State *L) {
  static const char *const names[] = {"prelu", "swish_beta", "snake_a", "sau", NULL};
  const char *fname = luaL_checkstring(L, 1);
  int k = luaL_checkoption(L, 2, NULL, names);
  const nn_op *op = nn_op_find(names[k]);
  nn_tensor *in[3] = {lnn_check(L, 3), lnn_check(L, 4), NULL};
  if (op->nin == 3) in[2] = lnn_check(L, 5);
  lnn_gc_before_like(L, in[0], 1, 1);
  return push_or_error(L, nn_call(op, in, NULL), fname);
}

/* nn._rational(fname, x, a, b) */
static int l_rational(lua_State *L) {
  const char *fname = luaL_checkstring(L, 1);
  lnn_gc_before_like(L, lnn_check(L, 2), 1, 1);
  return push_or_error(L, nn_rational(lnn_check(L, 2), lnn_check(L, 3), lnn_check(L, 4)), fname);
}

/* nn._gated(fname, x, dim, gate): gate 0 glu, 1 reglu, 2 geglu, 3 swiglu, 4 bilinear */
static int l_gated(lua_State *L) {
  const char *fname = luaL_checkstring(L, 1);
  nn_tensor *x = lnn_check(L, 2);
  int d = lnn_checkdim(L, 3, x->ndim);
  lua_Integer g = lnn_checkinteger(L, 4);
  if (g < 0 || g >= NN_NGATES) return lnn_errorf(L, "%s: no gate number %lld", fname, g);
  lnn_gc_before_like(L, x, 1, 2);
  return push_or_error(L, nn_gated(x, d, (nn_gate)g), fname);
}

/* nn._relu_scaled(fname, x, s): max(x, 0) s */
static int l_relu_scaled(lua_State *L) {
  const char *fname = luaL_checkstring(L, 1);
  lnn_gc_before_like(L, lnn_check(L, 2), 1, 1);
  return push_or_error(L, nn_relu_scaled(lnn_check(L, 2), lnn_checknumber(L, 3)), fname);
}

static const lnn_reg act_fns[] = {
    {"_act_param", l_act_param, "nn._act_param(fname, op, x, p1 [, p2]) -> tensor",
     "The C entry of nn.prelu, nn.swish_beta, nn.snake_a and nn.sau (op names the one, fname "
     "the caller); use those instead."},
    {"_rational", l_rational, "nn._rational(fname, x, a, b) -> tensor",
     "The C entry of nn.rational; use it instead."},
    {"_gated", l_gated, "nn._gated(fname, x, dim, gate) -> tensor",
     "The C entry of nn.glu, nn.reglu, nn.geglu, nn.swiglu, nn.bilinear (gate 0 to 4); use "
     "those instead."},
    {"_relu_scaled", l_relu_scaled, "nn._relu_scaled(fname, x, s) -> tensor",
     "max(x, 0) s in one pass: the C entry of nn.relu_attention; use it instead."},
    {NULL, NULL, NULL, NULL}};

void lnn_open_act(lua_State *L) {
  lnn_register(L, "Activations", LNN_FUNC, act_fns);
}
