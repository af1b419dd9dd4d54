/*
** nn/lua/lnnfunc.c: neural-net functions: activations, linear, normalizations, dropout,
** embedding, losses, and the fused optimizer steps.
**
** Activations are one C function over a table: each entry names the core function (through a
** one-line adapter, so that the core's checks of the parameters run), how many numeric
** parameters it takes after x, and their defaults. Classes and ignore_index are 1-based for
** the user and 0-based in the core, whose messages add the 1 back.
*/
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#include "nn/lua/lnn.h"
#include "nn/ops.h"
#include "nn/optim.h"

/* ---- activations ---- */

typedef nn_tensor *(*act_fn)(nn_tensor *x, const double *p);

static nn_tensor *leaky_relu(nn_tensor *x, const double *p) {
  return nn_leaky_relu(x, p[0]);
}
static nn_tensor *elu(nn_tensor *x, const double *p) {
  return nn_elu(x, p[0]);
}
static nn_tensor *silu(nn_tensor *x, const double *p) {
  return nn_silu(x, p[0]);
}
static nn_tensor *mish(nn_tensor *x, const double *p) {
  (void)p;
  return nn_mish(x);
}
static nn_tensor *softplus(nn_tensor *x, const double *p) {
  return nn_softplus(x, p[0], p[1]);
}
static nn_tensor *hardtanh(nn_tensor *x, const double *p) {
  return nn_hardtanh(x, p[0], p[1]);
}
static nn_tensor *relu2(nn_tensor *x, const double *p) {
  (void)p;
  return nn_relu2(x);
}
static nn_tensor *smelu(nn_tensor *x, const double *p) {
  return nn_smelu(x, p[0]);
}
static nn_tensor *snake(nn_tensor *x, const double *p) {
  return nn_snake(x, p[0]);
}
static nn_tensor *shifted_relu(nn_tensor *x, const double *p) {
  return nn_shifted_relu(x, p[0]);
}
static nn_tensor *fatrelu(nn_tensor *x, const double *p) {
  return nn_fatrelu(x, p[0]);
}
static nn_tensor *helu(nn_tensor *x, const double *p) {
  return nn_helu(x, p[0]);
}
static nn_tensor *regelu2(nn_tensor *x, const double *p) {
  (void)p;
  return nn_regelu2(x);
}
static nn_tensor *resilu2(nn_tensor *x, const double *p) {
  (void)p;
  return nn_resilu2(x);
}

static const struct activation {
  lnn_reg reg;
  act_fn f;
  int nparams;
  double def[2];
} activations[] = {
    {{"leaky_relu", NULL, "nn.leaky_relu(x [, slope=0.01]) -> tensor",
      "x where x > 0, slope * x elsewhere."},
     leaky_relu,
     1,
     {0.01}},
    {{"elu", NULL, "nn.elu(x [, alpha=1]) -> tensor", "x where x > 0, alpha (e^x - 1) elsewhere."},
     elu,
     1,
     {1}},
    {{"silu", NULL, "nn.silu(x [, beta=1]) -> tensor", "x sigmoid(beta x), also called swish."},
     silu,
     1,
     {1}},
    {{"swish", NULL, "nn.swish(x [, beta=1]) -> tensor", "x sigmoid(beta x): nn.silu."},
     silu,
     1,
     {1}},
    {{"mish", NULL, "nn.mish(x) -> tensor", "x tanh(softplus(x))."}, mish, 0, {0}},
    {{"softplus", NULL, "nn.softplus(x [, beta=1 [, threshold=20]]) -> tensor",
      "log(1 + e^(beta x)) / beta, and x itself where beta x > threshold."},
     softplus,
     2,
     {1, 20}},
    {{"hardtanh", NULL, "nn.hardtanh(x [, lo=-1 [, hi=1]]) -> tensor", "x clamped to [lo, hi]."},
     hardtanh,
     2,
     {-1, 1}},
    {{"relu2", NULL, "nn.relu2(x) -> tensor", "The squared ReLU: max(x, 0)^2."}, relu2, 0, {0}},
    {{"smelu", NULL, "nn.smelu(x [, beta=1]) -> tensor",
      "Smooth ReLU: 0 below -beta, x above beta, (x + beta)^2 / (4 beta) between."},
     smelu,
     1,
     {1}},
    {{"snake", NULL, "nn.snake(x [, a=1]) -> tensor", "x + sin^2(a x) / a, a periodic activation."},
     snake,
     1,
     {1}},
    {{"shifted_relu", NULL, "nn.shifted_relu(x [, b=0]) -> tensor",
      "max(0, x - b): ReLU shifted right by b, sparser for b > 0 (A Sublinear Adversarial "
      "Training Algorithm; ReLU Strikes Back)."},
     shifted_relu,
     1,
     {0}},
    {{"fatrelu", NULL, "nn.fatrelu(x [, threshold=0.1]) -> tensor",
      "x where x >= threshold, else 0; threshold > 0 (FATReLU, ProSparse's activation "
      "threshold shifting)."},
     fatrelu,
     1,
     {0.1}},
    {{"helu", NULL, "nn.helu(x [, alpha=0.05]) -> tensor",
      "Hysteresis ReLU: max(0, x) forward; backward g * 1[x > -alpha], a wider gradient window "
      "that lets dying units recover; inference is ReLU's (Hysteresis Activation Function for "
      "Efficient Inference). alpha > 0."},
     helu,
     1,
     {0.05}},
    {{"regelu2", NULL, "nn.regelu2(x) -> tensor",
      "Exact GELU x Phi(x) forward; backward the 4-level step derivative of a 3-ReLU fit "
      "(levels 0 | -0.0492 | 1.0487 | 1.0 split at -3.186, -0.0012, 3.191), keeping only a "
      "2-bit code per element (Reducing Fine-Tuning Memory Overhead by Approximate and "
      "Memory-Sharing Backpropagation)."},
     regelu2,
     0,
     {0}},
    {{"resilu2", NULL, "nn.resilu2(x) -> tensor",
      "Exact SiLU x sigmoid(x) forward; backward a 4-level step derivative (split at -6.305, "
      "-0.0009, 6.326) from a 2-bit code per element (Approx-BP, as nn.regelu2)."},
     resilu2,
     0,
     {0}},
};

static int l_saved_bytes(lua_State *L) {
  nn_tensor *y = lnn_check(L, 1);
  int64_t b = nn_saved_bytes(y);
  if (b < 0)
    lua_pushnil(L);
  else
    lua_pushinteger(L, (lua_Integer)b);
  return 1;
}

static int l_activation(lua_State *L) {
  const struct activation *a = &activations[lua_tointeger(L, lua_upvalueindex(1))];
  nn_tensor *x = lnn_check(L, 1);
  double p[2] = {0, 0};
  for (int k = 0; k < a->nparams; k++) p[k] = lnn_optnumber(L, k + 2, a->def[k]);
  lnn_gc_before_like(L, x, 1, 1);
  lnn_push(L, a->f(x, p));
  return 1;
}

static int l_gelu(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  const char *how = lua_isnoneornil(L, 2) ? "none" : lua_tostring(L, 2);
  if (!how || (strcmp(how, "none") != 0 && strcmp(how, "tanh") != 0))
    return lnn_errorf(L, "approximate must be \"none\" or \"tanh\", got %s",
                      how ? lua_pushfstring(L, "\"%s\"", how) : luaL_typename(L, 2));
  lnn_gc_before_like(L, x, 1, 1);
  lnn_push(L, how[0] == 't' ? nn_gelu_tanh(x) : nn_gelu(x));
  return 1;
}

/* softmax and log_softmax along dim (default the last) */
static int softmaxed(lua_State *L, nn_tensor *(*f)(nn_tensor *, int)) {
  nn_tensor *x = lnn_check(L, 1);
  int last = x->ndim > 0 ? x->ndim - 1 : 0,
      d = x->ndim > 0 ? lnn_optdim(L, 2, x->ndim, last) : last;
  lnn_gc_before_like(L, x, 1, 1);
  lnn_push(L, f(x, d));
  return 1;
}

static int l_softmax(lua_State *L) {
  return softmaxed(L, nn_softmax);
}
static int l_log_softmax(lua_State *L) {
  return softmaxed(L, nn_log_softmax);
}

/* ---- layers as functions ---- */

static int l_linear(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1), *w = lnn_check(L, 2);
  lnn_push(L, nn_linear(x, w, lnn_opt(L, 3)));
  return 1;
}

static int l_linear_fa(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1), *w = lnn_check(L, 2), *b = lnn_opt(L, 3);
  lnn_push(L, nn_linear_fa(x, w, b, lnn_check(L, 4)));
  return 1;
}

static int l_linear_pfa(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1), *w = lnn_check(L, 2), *b = lnn_opt(L, 3);
  lnn_push(L, nn_linear_pfa(x, w, b, lnn_check(L, 4), lnn_check(L, 5)));
  return 1;
}

/* The normalized size: an integer, or a table of one integer; nil means the last dim. */
static int64_t normalized_size(lua_State *L, int arg, const nn_tensor *x) {
  if (lua_isnoneornil(L, arg)) return x->ndim > 0 ? x->shape[x->ndim - 1] : 1;
  if (lua_istable(L, arg)) {
    int64_t shape[NN_MAXDIM];
    int n = lnn_checkshape(L, arg, shape);
    if (n != 1)
      lnn_errorf(L, "only the last dim can be normalized, got normalized_size %s",
                 nn_dims_str(n, shape));
    return shape[0];
  }
  return lnn_checkinteger(L, arg);
}

static int l_layer_norm(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  int64_t d = normalized_size(L, 2, x);
  nn_tensor *w = lnn_opt(L, 3), *b = lnn_opt(L, 4);
  lnn_gc_before_like(L, x, 1, 1);
  lnn_push(L, nn_layer_norm(x, d, w, b, lnn_optnumber(L, 5, 1e-5)));
  return 1;
}

static int l_batch_norm(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1), *mean = lnn_opt(L, 2), *var = lnn_opt(L, 3);
  nn_tensor *w = lnn_opt(L, 4), *b = lnn_opt(L, 5);
  bool training = lnn_optboolean(L, 6, false);
  double momentum = lnn_optnumber(L, 7, 0.1), eps = lnn_optnumber(L, 8, 1e-5);
  lnn_gc_before_like(L, x, 1, 1);
  lnn_push(L, nn_batch_norm(x, w, b, mean, var, training, momentum, eps));
  return 1;
}

static int l_dropout(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  double p = lnn_optnumber(L, 2, 0.5);
  lnn_gc_before_like(L, x, 1, 1);
  lnn_push(L, nn_dropout(x, p, lnn_optboolean(L, 3, true)));
  return 1;
}

static int l_embedding(lua_State *L) {
  nn_tensor *w = lnn_check(L, 2);
  int64_t pad = -1;
  if (!lua_isnoneornil(L, 3)) pad = lnn_checkindex(L, 3, w->ndim == 2 ? w->shape[0] : 0, 0);
  nn_tensor *idx = lnn_index0(L, 1), *r = nn_embedding(idx, w, pad);
  nn_release(idx);
  lnn_push(L, r);
  return 1;
}

/* ---- losses ---- */

typedef struct loss_opts {
  nn_reduction reduction;
  double label_smoothing;
  int64_t ignore_index; /* 0-based; INT64_MIN for none */
  nn_tensor *weight;    /* class weights (borrowed from the options table), or NULL */
} loss_opts;

static nn_reduction reduction_named(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  const char *name = lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : NULL;
  int r = name ? nn_reduction_parse(name) : -1;
  if (r < 0)
    lnn_errorf(
        L, "reduction must be \"mean\", \"sum\" or \"none\", got %s",
        name ? lua_pushfstring(L, "\"%s\"", name)
             : lua_pushfstring(L, "%s (%s)", luaL_typename(L, idx), luaL_tolstring(L, idx, NULL)));
  return (nn_reduction)r;
}

/* {reduction = "mean", label_smoothing = 0, ignore_index = class} or a reduction's name; known
   lists the options the loss has */
static const char *const ce_opts[] = {"reduction", "label_smoothing", "ignore_index", "weight",
                                      NULL};
static const char *const nll_opts[] = {"reduction", "ignore_index", "weight", NULL};
static const char *const pair_opts[] = {"reduction", NULL};

static loss_opts read_loss_opts(lua_State *L, int arg, const char *const *known) {
  loss_opts o = {NN_REDUCE_MEAN, 0, INT64_MIN, NULL};
  if (lua_isnoneornil(L, arg)) return o;
  if (lua_type(L, arg) == LUA_TSTRING) {
    o.reduction = reduction_named(L, arg);
    return o;
  }
  if (!lua_istable(L, arg)) lnn_argerror(L, arg, "a table of options");
  lnn_check_keys(L, arg, known);
  if (lua_getfield(L, arg, "reduction") != LUA_TNIL) o.reduction = reduction_named(L, -1);
  lua_pop(L, 1);
  o.label_smoothing = lnn_optfield_number(L, arg, "label_smoothing", 0);
  int type = lua_getfield(L, arg, "ignore_index");
  if (type != LUA_TNIL) {
    int ok = 0;
    lua_Integer k = type == LUA_TNUMBER ? lua_tointegerx(L, -1, &ok) : 0;
    if (!ok)
      lnn_errorf(L, "option ignore_index must be an integer class, got %s", luaL_typename(L, -1));
    if (k == LUA_MININTEGER) /* k - 1 would overflow */
      lnn_errorf(L, "option ignore_index %lld is out of range", (long long)k);
    o.ignore_index = k - 1;
  }
  lua_pop(L, 1);
  if (lua_getfield(L, arg, "weight") != LUA_TNIL) {
    if (!(o.weight = lnn_test(L, -1)))
      lnn_errorf(L, "option weight must be a tensor of one weight per class, got %s",
                 luaL_typename(L, -1));
  }
  lua_pop(L, 1); /* the table keeps the tensor alive */
  return o;
}

/* cross_entropy and nll_loss: (input, target classes 1..C [, opts]) */
static int classified(lua_State *L, bool softmax) {
  nn_tensor *x = lnn_check(L, 1);
  loss_opts o = read_loss_opts(L, 3, softmax ? ce_opts : nll_opts);
  nn_tensor *target = lnn_index0(L, 2);
  nn_tensor *r = softmax ? nn_cross_entropy(x, target, o.weight, o.reduction, o.label_smoothing,
                                            o.ignore_index)
                         : nn_nll_loss(x, target, o.weight, o.reduction, o.ignore_index);
  nn_release(target);
  lnn_push(L, r);
  return 1;
}

static int l_cross_entropy(lua_State *L) {
  return classified(L, true);
}
static int l_nll_loss(lua_State *L) {
  return classified(L, false);
}

/* mse_loss, l1_loss, bce_with_logits: (input, target [, opts]), the upvalue the core's fn */
typedef nn_tensor *(*pair_loss)(nn_tensor *, nn_tensor *, nn_reduction);
static const pair_loss pair_losses[] = {nn_mse_loss, nn_l1_loss, nn_bce_with_logits};

static int l_pair_loss(lua_State *L) {
  pair_loss f = pair_losses[lua_tointeger(L, lua_upvalueindex(1))];
  nn_tensor *x = lnn_check(L, 1), *y = lnn_check(L, 2);
  lnn_push(L, f(x, y, read_loss_opts(L, 3, pair_opts).reduction));
  return 1;
}

/* ---- fused optimizer steps ---- */

static int check_opts(lua_State *L, int arg) {
  if (!lua_istable(L, arg)) lnn_argerror(L, arg, "a table of options");
  return arg;
}

static int l_sgd_step(lua_State *L) {
  nn_tensor *p = lnn_check(L, 1), *g = lnn_check(L, 2), *buf = lnn_opt(L, 3);
  int t = check_opts(L, 4);
  nn_sgd_opts o = {
      .lr = lnn_optfield_number(L, t, "lr", 1e-3),
      .momentum = lnn_optfield_number(L, t, "momentum", 0),
      .dampening = lnn_optfield_number(L, t, "dampening", 0),
      .weight_decay = lnn_optfield_number(L, t, "weight_decay", 0),
      .nesterov = lnn_optfield_boolean(L, t, "nesterov", false),
      .maximize = lnn_optfield_boolean(L, t, "maximize", false),
  };
  if (nn_sgd_step(p, g, buf, &o, lnn_checkinteger(L, 5)) < 0) return lnn_error(L, NULL);
  return 0;
}

static int l_adam_step(lua_State *L) {
  nn_tensor *p = lnn_check(L, 1), *g = lnn_check(L, 2), *m = lnn_check(L, 3);
  nn_tensor *v = lnn_check(L, 4);
  int t = check_opts(L, 5);
  nn_adam_opts o = {
      .lr = lnn_optfield_number(L, t, "lr", 1e-3),
      .beta1 = lnn_optfield_number(L, t, "beta1", 0.9),
      .beta2 = lnn_optfield_number(L, t, "beta2", 0.999),
      .eps = lnn_optfield_number(L, t, "eps", 1e-8),
      .weight_decay = lnn_optfield_number(L, t, "weight_decay", 0),
      .decoupled = lnn_optfield_boolean(L, t, "decoupled", false),
      .maximize = lnn_optfield_boolean(L, t, "maximize", false),
  };
  nn_tensor *vmax = lua_isnoneornil(L, 7) ? NULL : lnn_check(L, 7);
  if (nn_adam_step(p, g, m, v, vmax, &o, lnn_checkinteger(L, 6)) < 0) return lnn_error(L, NULL);
  return 0;
}

static int l_rmsprop_step(lua_State *L) {
  nn_tensor *p = lnn_check(L, 1), *g = lnn_check(L, 2), *sq = lnn_check(L, 3);
  nn_tensor *avg = lnn_opt(L, 4), *buf = lnn_opt(L, 5);
  int t = check_opts(L, 6);
  nn_rmsprop_opts o = {
      .lr = lnn_optfield_number(L, t, "lr", 1e-2),
      .alpha = lnn_optfield_number(L, t, "alpha", 0.99),
      .eps = lnn_optfield_number(L, t, "eps", 1e-8),
      .weight_decay = lnn_optfield_number(L, t, "weight_decay", 0),
      .momentum = lnn_optfield_number(L, t, "momentum", 0),
      .centered = lnn_optfield_boolean(L, t, "centered", false),
      .maximize = lnn_optfield_boolean(L, t, "maximize", false),
  };
  if (nn_rmsprop_step(p, g, sq, avg, buf, &o) < 0) return lnn_error(L, NULL);
  return 0;
}

/* ---- registration ---- */

static const lnn_reg activation_fns[] = {
    {"saved_bytes", l_saved_bytes, "nn.saved_bytes(y) -> integer or nil",
     "Bytes the op that made y saved for its backward beyond its inputs (state it computed, "
     "its output when it keeps it); nil when y has no grad_fn. gelu: its output (4 bytes an "
     "f32 element); regelu2: a 2-bit code (1 byte per 4 elements)."},
    {"gelu", l_gelu, "nn.gelu(x [, approximate=\"none\"]) -> tensor",
     "x Phi(x) with the normal CDF Phi (erf), or its tanh approximation with \"tanh\"."},
    {"softmax", l_softmax, "nn.softmax(x [, dim=-1]) -> tensor",
     "e^x / sum(e^x) along dim (default the last), computed without overflow."},
    {"log_softmax", l_log_softmax, "nn.log_softmax(x [, dim=-1]) -> tensor",
     "log(softmax(x)) along dim (default the last), computed stably."},
    {NULL, NULL, NULL, NULL}};

static const lnn_reg layer_fns[] = {
    {"linear", l_linear, "nn.linear(x, weight [, bias]) -> tensor",
     "x W^T + b for weight W (out x in) and bias b (out); x is (..., in)."},
    {"linear_fa", l_linear_fa, "nn.linear_fa(x, weight, bias, B) -> tensor",
     "x W^T + b whose backward is feedback alignment's, not the derivative: the input gets g B "
     "(B fixed, of W's shape, no gradient); W and b get their true gradients. bias may be nil."},
    {"linear_pfa", l_linear_pfa, "nn.linear_pfa(x, weight, bias, B, R) -> tensor",
     "x W^T + b whose backward is product feedback alignment's: the input gets (g B) R for B "
     "(out, r) fixed and R (r, in), and R the local gradient (g B)^T x; W and b get their true "
     "gradients. bias may be nil."},
    {"layer_norm", l_layer_norm,
     "nn.layer_norm(x, normalized_size [, weight [, bias [, eps=1e-5]]]) -> tensor",
     "Normalizes the last dim (of size normalized_size) to zero mean and unit variance, then "
     "scales by weight and shifts by bias."},
    {"batch_norm", l_batch_norm,
     "nn.batch_norm(x, running_mean, running_var [, weight, bias, training=false, "
     "momentum=0.1, eps=1e-5]) -> tensor",
     "Batch normalization of x (N, C): by the batch's statistics when training (moving the "
     "running ones by momentum), by the running ones otherwise; any of the four may be nil."},
    {"dropout", l_dropout, "nn.dropout(x [, p=0.5 [, training=true]]) -> tensor",
     "Zeroes each element with probability p and scales the rest by 1/(1-p); x itself when "
     "not training."},
    {"embedding", l_embedding, "nn.embedding(idx, weight [, padding_idx]) -> tensor",
     "The rows idx (1-based i64, any shape) of weight (n, d): shape idx.shape + {d}; the row "
     "padding_idx gets no gradient."},
    {NULL, NULL, NULL, NULL}};

static const lnn_reg loss_fns[] = {
    {"cross_entropy", l_cross_entropy,
     "nn.cross_entropy(logits, target [, {reduction=\"mean\", label_smoothing=0, "
     "ignore_index, weight}]) -> tensor",
     "Softmax cross-entropy of logits (N, C) or (C) against classes target (i64, 1..C); rows "
     "whose target is ignore_index count for nothing; weight (C) weighs each class (the mean "
     "divides by the targets' weights)."},
    {"nll_loss", l_nll_loss,
     "nn.nll_loss(logp, target [, {reduction=\"mean\", ignore_index, weight}]) -> tensor",
     "-logp[target] (times weight[target]) for log-probabilities logp (N, C) and classes "
     "target (i64, 1..C)."},
    {NULL, NULL, NULL, NULL}};

static const lnn_reg pair_loss_regs[] = {
    {"mse_loss", NULL, "nn.mse_loss(x, y [, {reduction=\"mean\"}]) -> tensor",
     "The squared error (x - y)^2, averaged, summed or per element (\"none\")."},
    {"l1_loss", NULL, "nn.l1_loss(x, y [, {reduction=\"mean\"}]) -> tensor",
     "The absolute error |x - y|, averaged, summed or per element (\"none\")."},
    {"bce_with_logits", NULL, "nn.bce_with_logits(x, y [, {reduction=\"mean\"}]) -> tensor",
     "Binary cross-entropy of logits x against targets y in [0, 1], computed stably."},
};

static const lnn_reg optim_fns[] = {
    {"_sgd_step", l_sgd_step,
     "nn._sgd_step(p, g, buf_or_nil, {lr, momentum, dampening, weight_decay, nesterov, "
     "maximize}, step)",
     "One SGD update of p in place from gradient g (torch.optim.SGD's formula; buf is the "
     "momentum buffer); autograd does not see it."},
    {"_adam_step", l_adam_step,
     "nn._adam_step(p, g, m, v, {lr, beta1, beta2, eps, weight_decay, decoupled, maximize}, "
     "step [, vmax])",
     "One Adam (AdamW when decoupled; AMSGrad with vmax) update of p in place, moving the moments "
     "m and v; "
     "step counts from 1."},
    {"_rmsprop_step", l_rmsprop_step,
     "nn._rmsprop_step(p, g, square_avg, grad_avg_or_nil, buf_or_nil, {lr, alpha, eps, "
     "weight_decay, momentum, centered, maximize})",
     "One RMSprop update of p in place (grad_avg when centered, buf when momentum > 0)."},
    {NULL, NULL, NULL, NULL}};

void lnn_open_nnfunc(lua_State *L) {
  for (size_t k = 0; k < sizeof activations / sizeof *activations; k++) {
    lua_pushinteger(L, (lua_Integer)k);
    lua_pushcclosure(L, l_activation, 1);
    lnn_register_top(L, "Activations", LNN_BOTH, &activations[k].reg);
  }
  lnn_register(L, "Activations", LNN_BOTH, activation_fns);
  lnn_register(L, "Layers as functions", LNN_FUNC, layer_fns);
  lnn_register(L, "Losses", LNN_FUNC, loss_fns);
  for (size_t k = 0; k < sizeof pair_loss_regs / sizeof *pair_loss_regs; k++) {
    lua_pushinteger(L, (lua_Integer)k);
    lua_pushcclosure(L, l_pair_loss, 1);
    lnn_register_top(L, "Losses", LNN_FUNC, &pair_loss_regs[k]);
  }
  lnn_register(L, "Optimizer steps", LNN_FUNC, optim_fns);
}
