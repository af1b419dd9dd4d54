/*
** nn/lua/lrules.c: the fused kernels of the learning rules (nn/rules.h), for the rules in
** stdlib/nn/rules/ (forward_forward, predictive_coding). Internal: their names start with _.
*/
#include <string.h>

#include <lauxlib.h>

#include "nn/lua/lnn.h"
#include "nn/rules.h"

enum { MAX_LAYERS = 64 };

static int check_opts(lua_State *L, int arg) {
  if (!lua_istable(L, arg)) lnn_argerror(L, arg, "a table of options");
  return arg;
}

/* The tensors of the list at idx into ts (at most MAX_LAYERS); false entries give NULL when
   holes are allowed. Returns how many. */
static int tensor_list(lua_State *L, int idx, const char *what, nn_tensor **ts, bool holes) {
  if (!lua_istable(L, idx)) lnn_argerror(L, idx, "a list of tensors");
  int n = (int)lua_rawlen(L, idx);
  if (n > MAX_LAYERS) lnn_errorf(L, "%s: %d tensors, at most %d", what, n, MAX_LAYERS);
  for (int k = 0; k < n; k++) {
    lua_rawgeti(L, idx, k + 1);
    ts[k] = lnn_test(L, -1);
    if (!ts[k] && !(holes && lua_toboolean(L, -1) == 0))
      lnn_errorf(L, "%s[%d] is a %s, not a tensor", what, k + 1, luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  return n;
}

/* nn._ff_layer(x, w, b, off, {theta, npos, mean}, y, g [, dw, db]) -> loss */
static int l_ff_layer(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1), *w = lnn_check(L, 2), *b = lnn_opt(L, 3), *off = lnn_opt(L, 4);
  int t = check_opts(L, 5);
  nn_tensor *y = lnn_check(L, 6), *g = lnn_check(L, 7), *dw = lnn_opt(L, 8), *db = lnn_opt(L, 9);
  nn_ff_opts o = {
      .theta = lnn_optfield_number(L, t, "theta", 2),
      .npos = (int64_t)lnn_optfield_number(L, t, "npos", 0),
      .mean = lnn_optfield_boolean(L, t, "mean", true),
  };
  double loss;
  if (nn_ff_layer(x, w, b, off, &o, y, g, dw, db, &loss) < 0) return lnn_error(L, NULL);
  lua_pushnumber(L, loss);
  return 1;
}

static int opt_enum(lua_State *L, int t, const char *k, const char *const names[], int def) {
  lua_getfield(L, t, k);
  int r = lua_isnil(L, -1) ? def : luaL_checkoption(L, -1, NULL, names);
  lua_pop(L, 1);
  return r;
}

/* nn._pc_step(ws, bs, x, target, {iters, gamma, act, loss}, dws, dbs) -> loss */
static int l_pc_step(lua_State *L) {
  nn_tensor *w[MAX_LAYERS], *b[MAX_LAYERS], *dw[MAX_LAYERS], *db[MAX_LAYERS];
  int n = tensor_list(L, 1, "weights", w, false);
  if (tensor_list(L, 2, "biases", b, true) != n ||
      tensor_list(L, 6, "weight gradients", dw, false) != n ||
      tensor_list(L, 7, "bias gradients", db, true) != n)
    return lnn_errorf(L, "the lists of weights, biases and gradients differ in length");
  nn_tensor *x = lnn_check(L, 3), *target = lnn_check(L, 4);
  int t = check_opts(L, 5);
  static const char *const acts[] = {"identity", "relu", "tanh", NULL};
  static const char *const losses[] = {"cross_entropy", "mse", NULL};
  double gamma[MAX_LAYERS] = {0};
  lua_getfield(L, t, "gamma");
  if (!lua_istable(L, -1)) return lnn_errorf(L, "options.gamma must be a list of steps");
  for (int k = 0; k + 1 < n; k++) {
    lua_rawgeti(L, -1, k + 1);
    gamma[k] = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : -1;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  nn_pc_opts o = {
      .nlayers = n,
      .iters = (int)lnn_optfield_number(L, t, "iters", 20),
      .act = opt_enum(L, t, "act", acts, NN_ACT_RELU),
      .loss = opt_enum(L, t, "loss", losses, NN_PC_CROSS_ENTROPY),
      .gamma = gamma,
  };
  double loss;
  if (nn_pc_step(w, b, x, target, &o, dw, db, &loss) < 0) return lnn_error(L, NULL);
  lua_pushnumber(L, loss);
  return 1;
}

/* nn._spectral_norm(w, u, iters) -> sigma */
static int l_spectral_norm(lua_State *L) {
  nn_tensor *w = lnn_check(L, 1), *u = lnn_check(L, 2);
  double s = nn_spectral_norm(w, u, (int)lnn_checkinteger(L, 3));
  if (s < 0) return lnn_error(L, NULL);
  lua_pushnumber(L, s);
  return 1;
}

static const lnn_reg functions[] = {
    {"_ff_layer", l_ff_layer,
     "nn._ff_layer(x, w, b_or_nil, off_or_nil, {theta=2, npos, mean=true}, y, g [, dw, db]) "
     "-> loss",
     "One forward-forward layer, fused: y = relu(x/rms(x) W^T + b), goodness g = mean (or sum) "
     "of y^2, the logistic loss of g + off - theta (rows before npos positive) and, given dw "
     "(and db), its gradient written into them."},
    {"_pc_step", l_pc_step,
     "nn._pc_step(ws, bs, x, target, {iters=20, gamma, act=\"relu\", loss=\"cross_entropy\"}, "
     "dws, dbs) -> loss",
     "Predictive coding on one batch, fused: the feedforward pass, iters inference steps on the "
     "hidden activities (step gamma[l]) over the layers' prediction errors and the loss, then "
     "the local gradients -e_l f(h_{l-1})^T / N into dws and dbs (false for no bias)."},
    {"_spectral_norm", l_spectral_norm, "nn._spectral_norm(w, u, iters) -> sigma",
     "The largest singular value of the matrix w by iters power iterations from u (f64, "
     "w's columns long), which is updated in place to carry on next time."},
    {NULL, NULL, NULL, NULL}};

void lnn_open_rules(lua_State *L) {
  lnn_register(L, "Learning rules", LNN_FUNC, functions);
}
