/*
** nn/lua/lautograd.c: autograd from Lua: the fields x.requires_grad, x.grad, x.grad_fn and
** x.is_leaf, y:backward(), x:detach(), grad modes (nn.no_grad and its kin), nn.grad and
** forward mode (nn.jvp). Gradient hooks and nn.Function, the Lua code that the core calls
** back during a backward, are in lhooks.c.
**
** Grad modes are scoped without pcall: nn.no_grad(fn, ...) marks a guard on its stack as
** to-be-closed (Lua 5.4), so the mode comes back however fn leaves, and fn's errors keep
** their traceback. The same guard, returned, is `local g <close> = nn.no_grad()`.
*/
#include <ctype.h>

#include <lauxlib.h>

#include "nn/autograd.h"
#include "nn/lua/lnn.h"
#include "nn/ops.h"

static const char GUARD_MT[] = "nn.GradMode", GRAD_FN_MT[] = "nn.GradFn";

/* ---- small readers ---- */

/* opts[field] as a boolean (false when opts is none or nil). */
static bool opt_flag(lua_State *L, int opts, const char *field) {
  if (lua_isnoneornil(L, opts)) return false;
  if (!lua_istable(L, opts)) lnn_argerror(L, opts, "a table of options");
  lnn_check_keys(L, opts, (const char *const[]){field, NULL});
  return lnn_optfield_boolean(L, opts, field, false);
}

/* The tensors at idx (a tensor, or a list of them) into an array kept alive as a userdata
   pushed on the stack; what names them in messages. Returns how many. */
static int tensor_list(lua_State *L, int idx, const char *what, nn_tensor ***out) {
  nn_tensor *one = lnn_test(L, idx);
  if (!one && !lua_istable(L, idx)) lnn_argerror(L, idx, "a tensor or a list of tensors");
  int n = one ? 1 : (int)lua_rawlen(L, idx);
  if (n == 0) lnn_errorf(L, "%s: the list is empty", what);
  nn_tensor **ts = lua_newuserdatauv(L, (size_t)n * sizeof *ts, 0);
  for (int k = 0; k < n; k++) {
    if (one) {
      ts[k] = one;
      continue;
    }
    lua_rawgeti(L, idx, k + 1);
    if (!(ts[k] = lnn_test(L, -1)))
      lnn_errorf(L, "%s[%d] is a %s, not a tensor", what, k + 1, luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  *out = ts;
  return n;
}

/* Pushes n new references: one tensor as itself when single, else as a list. */
static void push_results(lua_State *L, nn_tensor **ts, int n, bool single) {
  if (single) {
    lnn_push(L, ts[0]);
    return;
  }
  lua_createtable(L, n, 0);
  for (int k = 0; k < n; k++) {
    lnn_push(L, ts[k]);
    ts[k] = NULL;
    lua_rawseti(L, -2, k + 1);
  }
}

/* ---- in-place checks and names ---- */

void lnn_check_inplace(lua_State *L, nn_tensor *dst, nn_tensor *src) {
  static const nn_op inplace = {.name = "operation", .nin = 2};
  if (nn_autograd_check_inplace(&inplace, dst, src ? 1 : 0, &src) < 0) lnn_error(L, NULL);
}

/* "log_softmax" -> "LogSoftmaxBackward", as PyTorch names its nodes */
const char *lnn_push_grad_fn_name(lua_State *L, const nn_tensor *t) {
  if (lnn_push_function_name(L, t->grad_fn)) {
    lua_pushstring(L, "Backward");
    lua_concat(L, 2);
    return lua_tostring(L, -1);
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  bool start = true;
  for (const char *c = nn_node_name(t->grad_fn); *c; c++) {
    if (*c != '_') luaL_addchar(&b, start ? (char)toupper((unsigned char)*c) : *c);
    start = *c == '_';
  }
  luaL_addstring(&b, "Backward");
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

/* ---- fields ---- */

static int get_requires_grad(lua_State *L) {
  lua_pushboolean(L, lnn_check(L, 1)->requires_grad);
  return 1;
}

static void set_requires(lua_State *L, nn_tensor *t, bool on) {
  if (on && !nn_dtype_is_float(t->dtype))
    lnn_errorf(L, "only float tensors can require gradients, not %s", nn_dtype_name(t->dtype));
  if (t->grad_fn && !on)
    lnn_errorf(L,
               "only leaf tensors can stop requiring grad (this one was made by %s; use "
               "x:detach())",
               lnn_push_grad_fn_name(L, t));
  if (!t->grad_fn) t->requires_grad = on;
}

static bool check_flag(lua_State *L, int idx) {
  if (lua_isnone(L, idx)) return true;
  if (!lua_isboolean(L, idx)) lnn_argerror(L, idx, "a boolean");
  return lua_toboolean(L, idx);
}

static int set_requires_grad(lua_State *L) {
  set_requires(L, lnn_check(L, 1), check_flag(L, 2));
  return 0;
}

static int l_requires_grad_(lua_State *L) {
  set_requires(L, lnn_check(L, 1), check_flag(L, 2));
  lua_settop(L, 1);
  return 1;
}

static int get_grad(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  if (!t->grad) return 0;
  lnn_push(L, nn_retain(t->grad));
  return 1;
}

/* x.grad = g shares g, as in PyTorch; a g that autograd tracks is stored detached (its graph
   could lead back to x, a cycle of references that would never be freed). */
static int set_grad(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1), *g = lnn_test(L, 2);
  if (!g && !lua_isnoneornil(L, 2))
    return lnn_errorf(L, "the gradient must be a tensor or nil, got %s", luaL_typename(L, 2));
  if (g && !nn_same_shape(g, t))
    return lnn_errorf(L, "the gradient's shape %s does not match the tensor's %s", nn_shape_str(g),
                      nn_shape_str(t));
  if (g && g->dtype != t->dtype)
    return lnn_errorf(L, "the gradient is %s but the tensor is %s", nn_dtype_name(g->dtype),
                      nn_dtype_name(t->dtype));
  if (g == t) return lnn_errorf(L, "a tensor cannot be its own gradient");
  nn_tensor *keep = !g ? NULL : g->requires_grad ? nn_alias(g) : nn_retain(g);
  if (g && !keep) return lnn_error(L, NULL);
  nn_release(t->grad);
  t->grad = keep;
  return 0;
}

static int grad_fn_tostring(lua_State *L) {
  lua_getfield(L, 1, "name");
  lua_pushfstring(L, "<%s>", lua_tostring(L, -1));
  return 1;
}

/* x.grad_fn: nil for leaves, else {name = "MulBackward", op = "mul"} printing as <MulBackward> */
static int get_grad_fn(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  if (!t->grad_fn) return 0;
  lua_createtable(L, 0, 2);
  lnn_push_grad_fn_name(L, t);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, nn_node_name(t->grad_fn));
  lua_setfield(L, -2, "op");
  luaL_setmetatable(L, GRAD_FN_MT);
  return 1;
}

static int get_is_leaf(lua_State *L) {
  lua_pushboolean(L, lnn_check(L, 1)->grad_fn == NULL);
  return 1;
}

/* ---- callbacks at the end of a backward ---- */

/* nn.queue_callback(fn) during a backward (from a gradient hook) queues fn(ok), run once the
   outermost pass has ended, every gradient accumulated, in the order queued: ok is false when
   the pass failed (its error is raised after the callbacks). As PyTorch's queue_callback:
   nn.dist.DataParallel waits there for its last gradient buckets. */
static const char QUEUED[] = "nn.backward.queued";
static int passes; /* passes under way: nested ones (a hook running nn.grad) count */

static int l_queue_callback(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  if (passes == 0) return lnn_errorf(L, "only a gradient hook, during a backward, can queue");
  if (lua_getfield(L, LUA_REGISTRYINDEX, QUEUED) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, QUEUED);
  }
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  return 0;
}

/* After nn_backward/nn_grad returned rc: runs the queue when the outermost pass ends, then
   raises the pass's error or the first callback's. */
static void end_pass(lua_State *L, int rc) {
  if (--passes > 0 || lua_getfield(L, LUA_REGISTRYINDEX, QUEUED) != LUA_TTABLE) {
    if (passes == 0) lua_pop(L, 1);
    if (rc < 0) lnn_error(L, NULL);
    return;
  }
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, QUEUED);
  int queue = lua_gettop(L), err = 0;
  lua_pushstring(L, rc < 0 ? nn_errmsg() : ""); /* callbacks may overwrite the core's */
  for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, queue); i++) {
    lua_rawgeti(L, queue, i);
    lua_pushboolean(L, rc == 0 && err == 0);
    if (lua_pcall(L, 1, 0, 0) == LUA_OK) continue;
    if (err)
      lua_pop(L, 1); /* the first error is the one raised */
    else
      err = lua_gettop(L);
  }
  if (rc < 0) {
    nn_errc("%s", lua_tostring(L, queue + 1));
    lnn_error(L, NULL);
  }
  if (err) lua_error(L);
  lua_settop(L, queue - 1);
}

/* ---- methods ---- */

/* y:backward([grad_output] [, {retain_graph}]): the options may come second or first */
static int l_backward(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  int opts = lua_istable(L, 2) ? 2 : 3;
  nn_tensor *gout = opts == 2 ? NULL : lnn_opt(L, 2);
  bool retain = opt_flag(L, opts, "retain_graph");
  lua_State *prev = lnn_backward_begin(L);
  passes++;
  int rc = nn_backward(t, gout, retain);
  lnn_backward_end(prev);
  end_pass(L, rc);
  lnn_gc_check(L);
  return 0;
}

static int l_detach(lua_State *L) {
  lnn_push(L, nn_alias(lnn_check(L, 1)));
  return 1;
}

static int l_zero_grad(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  if (t->grad) nn_fill_(t->grad, 0);
  lua_settop(L, 1);
  return 1;
}

/* ---- grad modes ---- */

typedef struct guard {
  bool forward; /* leaves forward mode; else restores the grad mode */
  bool prev;    /* the grad mode to restore */
  bool closed;
  int level; /* the forward-mode level to restore, or -1 */
} guard;

static int guard_close(lua_State *L) {
  guard *g = luaL_checkudata(L, 1, GUARD_MT);
  if (g->closed) return 0;
  g->closed = true;
  if (g->forward)
    nn_fwd_leave();
  else
    nn_set_grad_enabled(g->prev);
  if (g->level >= 0) nn_fwd_resume(g->level);
  return 0;
}

static int guard_tostring(lua_State *L) {
  guard *g = luaL_checkudata(L, 1, GUARD_MT);
  lua_pushfstring(L, "nn grad mode guard (%s)", g->closed ? "closed" : "open");
  return 1;
}

/* Pushes a guard that undoes what the caller is about to do; made before the change, so
   that running out of memory here changes nothing. */
static void push_guard(lua_State *L, bool forward) {
  guard *g = lua_newuserdatauv(L, sizeof *g, 0);
  *g = (guard){forward, nn_grad_enabled(), false, -1};
  luaL_setmetatable(L, GUARD_MT);
}

void lnn_push_grad_mode(lua_State *L, bool on) {
  push_guard(L, false);
  nn_set_grad_enabled(on);
}

void lnn_push_quiet_mode(lua_State *L) {
  lnn_push_grad_mode(L, false);
  guard *g = lua_touserdata(L, -1);
  g->level = nn_fwd_suspend();
}

/* After fn in a coroutine: an error there does not unwind the coroutine's stack (the guard
   would stay open until the coroutine is closed), so it is caught, the mode restored, and
   the error raised again. */
static int grad_mode_done(lua_State *L, int status, lua_KContext ctx) {
  (void)ctx;
  if (status != LUA_OK && status != LUA_YIELD) {
    lua_pushcfunction(L, guard_close);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 0);
    return lua_error(L);
  }
  return lua_gettop(L) - 1;
}

/* nn.no_grad(fn, ...) / nn.enable_grad(fn, ...): fn's results, the mode restored however fn
   ends; without fn, the guard itself for `local g <close> = ...`. */
static int with_grad_mode(lua_State *L, bool on) {
  int n = lua_gettop(L);
  if (n > 0 && !lnn_is_callable(L, 1)) return lnn_argerror(L, 1, "a function");
  lnn_push_grad_mode(L, on);
  if (n == 0) return 1;
  lua_insert(L, 1);
  lua_toclose(L, 1);
  bool main = lua_pushthread(L);
  lua_pop(L, 1);
  if (main) { /* an error unwinds to a pcall, which closes the guard: fn's traceback stays */
    lua_call(L, n - 1, LUA_MULTRET);
    return lua_gettop(L) - 1;
  }
  return grad_mode_done(L, lua_pcallk(L, n - 1, LUA_MULTRET, 0, 0, grad_mode_done), 0);
}

static int l_no_grad(lua_State *L) {
  return with_grad_mode(L, false);
}
static int l_enable_grad(lua_State *L) {
  return with_grad_mode(L, true);
}

/* nn.detect_anomaly(on) -> previous */
static int l_detect_anomaly(lua_State *L) {
  if (!lua_isboolean(L, 1)) return lnn_argerror(L, 1, "a boolean");
  lua_pushboolean(L, nn_set_detect_anomaly(lua_toboolean(L, 1)));
  return 1;
}

static int l_is_grad_enabled(lua_State *L) {
  lua_pushboolean(L, nn_grad_enabled());
  return 1;
}

static int l_set_grad_enabled(lua_State *L) {
  if (!lua_isboolean(L, 1)) return lnn_argerror(L, 1, "a boolean");
  lua_pushboolean(L, nn_set_grad_enabled(lua_toboolean(L, 1)));
  return 1;
}

/* ---- nn.grad ---- */

/* The output gradients at idx (nil, a tensor, or a list with one per output) into gouts. */
static void read_grad_outputs(lua_State *L, int idx, int nout, nn_tensor **gouts) {
  nn_tensor *one = lnn_test(L, idx);
  for (int r = 0; r < nout; r++) gouts[r] = NULL;
  if (lua_isnoneornil(L, idx)) return;
  if (one) {
    if (nout != 1) lnn_errorf(L, "one grad_output for %d outputs (pass a list)", nout);
    gouts[0] = one;
    return;
  }
  if (!lua_istable(L, idx)) lnn_argerror(L, idx, "a tensor, a list of tensors or nil");
  for (int r = 0; r < nout; r++) {
    lua_rawgeti(L, idx, r + 1);
    gouts[r] = lnn_test(L, -1);
    if (!gouts[r] && !lua_isnil(L, -1))
      lnn_errorf(L, "grad_outputs[%d] is a %s, not a tensor", r + 1, luaL_typename(L, -1));
    lua_pop(L, 1);
  }
}

/* nn.grad(outputs, inputs [, grad_outputs] [, {retain_graph}]) -> list of gradients */
static int l_grad(lua_State *L) {
  lua_settop(L, 4);
  if (lua_istable(L, 3) && !lnn_is_tensor(L, 3) && lua_rawlen(L, 3) == 0 && lua_isnil(L, 4)) {
    lua_insert(L, 3); /* nn.grad(y, x, {retain_graph = true}) */
  }
  nn_tensor **outs, **ins;
  int nout = tensor_list(L, 1, "outputs", &outs);
  int nin = tensor_list(L, 2, "inputs", &ins);
  for (int k = 0; k < nin; k++)
    if (!ins[k]->requires_grad)
      return lnn_errorf(L, "inputs[%d] does not require grad (call x:requires_grad_() first)",
                        k + 1);
  nn_tensor **gouts = lua_newuserdatauv(L, (size_t)nout * sizeof *gouts, 0);
  read_grad_outputs(L, 3, nout, gouts);
  bool retain = opt_flag(L, 4, "retain_graph");
  nn_tensor **grads = lua_newuserdatauv(L, (size_t)nin * sizeof *grads, 0);
  lua_State *prev = lnn_backward_begin(L);
  passes++;
  int rc = nn_grad(nout, outs, gouts, nin, ins, grads, retain);
  lnn_backward_end(prev);
  end_pass(L, rc);
  for (int k = 0; k < nin; k++)
    if (!grads[k]) grads[k] = nn_zeros(ins[k]->dtype, ins[k]->ndim, ins[k]->shape);
  for (int k = 0; k < nin; k++)
    if (!grads[k]) {
      for (int j = 0; j < nin; j++) nn_release(grads[j]);
      return lnn_error(L, NULL);
    }
  push_results(L, grads, nin, false);
  lnn_gc_check(L);
  return 1;
}

/* ---- nn.jvp: forward mode ---- */

/* An alias of x (pushed) carrying tangent v, for fn to compute with. */
static void push_dual(lua_State *L, nn_tensor *x, nn_tensor *v, int k) {
  if (!nn_dtype_is_float(x->dtype))
    lnn_errorf(L, "inputs[%d] is %s; forward mode needs float inputs", k + 1,
               nn_dtype_name(x->dtype));
  if (!nn_same_shape(x, v))
    lnn_errorf(L, "tangents[%d] has shape %s but inputs[%d] has shape %s", k + 1, nn_shape_str(v),
               k + 1, nn_shape_str(x));
  lnn_push(L, nn_alias(x));
  nn_tensor *dual = lnn_check(L, -1);
  dual->tangent = v->dtype == x->dtype ? nn_retain(v) : nn_to(v, x->dtype);
  if (!dual->tangent) lnn_error(L, NULL);
}

/* The outputs fn left from idx on: several values, or one list, or one tensor (single). */
static int collect_outputs(lua_State *L, int idx, bool *single) {
  int n = lua_gettop(L) - idx + 1;
  *single = n == 1 && lnn_is_tensor(L, idx);
  if (n == 1 && lua_istable(L, idx)) {
    int list = idx;
    n = (int)lua_rawlen(L, list);
    luaL_checkstack(L, n, "too many outputs");
    for (int k = 1; k <= n; k++) lua_rawgeti(L, list, k);
    lua_remove(L, list);
  }
  if (n == 0) lnn_errorf(L, "fn returned no tensor");
  for (int k = 0; k < n; k++)
    if (!lnn_test(L, idx + k))
      lnn_errorf(L, "output %d of fn is a %s, not a tensor", k + 1, luaL_typename(L, idx + k));
  return n;
}

/* nn.jvp(fn, inputs, tangents) -> outputs, output_tangents */
static int l_jvp(lua_State *L) {
  if (!lnn_is_callable(L, 1)) return lnn_argerror(L, 1, "a function");
  lua_settop(L, 3);
  nn_tensor **xs, **vs;
  int n = tensor_list(L, 2, "inputs", &xs);
  int nv = tensor_list(L, 3, "tangents", &vs);
  if (nv != n) return lnn_errorf(L, "%d tangents for %d inputs", nv, n);
  luaL_checkstack(L, n + 4, "too many inputs");
  int duals = lua_gettop(L) + 1;
  for (int k = 0; k < n; k++) push_dual(L, xs[k], vs[k], k);
  push_guard(L, true);
  int guard = lua_gettop(L);
  lua_toclose(L, guard);
  nn_fwd_enter();
  lua_pushvalue(L, 1);
  for (int k = 0; k < n; k++) lua_pushvalue(L, duals + k);
  lua_call(L, n, LUA_MULTRET);
  lua_closeslot(L, guard);
  bool single;
  int nout = collect_outputs(L, guard + 1, &single), first = guard + 1;
  nn_tensor **tans = lua_newuserdatauv(L, (size_t)nout * sizeof *tans, 0);
  for (int k = 0; k < nout; k++) {
    nn_tensor *y = lnn_check(L, first + k);
    tans[k] = y->tangent ? nn_retain(y->tangent) : nn_zeros(y->dtype, y->ndim, y->shape);
  }
  for (int k = 0; k < nout + n; k++) { /* the outputs' and the duals' tangents go */
    nn_tensor *t = lnn_check(L, k < nout ? first + k : duals + k - nout);
    nn_release(t->tangent);
    t->tangent = NULL;
  }
  for (int k = 0; k < nout; k++)
    if (!tans[k]) {
      for (int j = 0; j < nout; j++) nn_release(tans[j]);
      return lnn_error(L, NULL);
    }
  if (single) {
    lua_pushvalue(L, first);
  } else {
    lua_createtable(L, nout, 0);
    for (int k = 0; k < nout; k++) {
      lua_pushvalue(L, first + k);
      lua_rawseti(L, -2, k + 1);
    }
  }
  push_results(L, tans, nout, single);
  return 2;
}

/* ---- registration ---- */

static const lnn_reg methods[] = {
    {"requires_grad_", l_requires_grad_, "x:requires_grad_([flag=true]) -> x",
     "Marks a float leaf tensor as needing gradients (or not); x.requires_grad reads the flag."},
    {"backward", l_backward, "y:backward([grad_output] [, {retain_graph=false}])",
     "Accumulates dy/dx into x.grad for every leaf x that requires grad; y must have one "
     "element unless grad_output is given."},
    {"detach", l_detach, "x:detach() -> tensor",
     "The same memory as a new tensor outside the graph (no grad, no grad_fn)."},
    {"zero_grad", l_zero_grad, "x:zero_grad() -> x", "Sets x.grad to zeros in place, if any."},
    {NULL, NULL, NULL, NULL}};

static const lnn_reg functions[] = {
    {"no_grad", l_no_grad, "nn.no_grad([fn, ...]) -> fn's results | guard",
     "Runs fn(...) without recording gradients; without fn, returns a guard for "
     "`local g <close> = nn.no_grad()` that restores the mode when closed."},
    {"enable_grad", l_enable_grad, "nn.enable_grad([fn, ...]) -> fn's results | guard",
     "Runs fn(...) with gradient recording on (even inside nn.no_grad); without fn, a guard "
     "as nn.no_grad's."},
    {"detect_anomaly", l_detect_anomaly, "nn.detect_anomaly(on) -> previous",
     "While on, the first op whose output holds a NaN or an infinity its inputs did not (in "
     "forward or in backward) raises an error naming it. Off by default (it scans every "
     "result)."},
    {"is_grad_enabled", l_is_grad_enabled, "nn.is_grad_enabled() -> boolean",
     "Whether ops record the graph for backward (false inside nn.no_grad)."},
    {"set_grad_enabled", l_set_grad_enabled, "nn.set_grad_enabled(flag) -> previous",
     "Turns gradient recording on or off until changed again (for the REPL, where a <close> "
     "guard ends with the line)."},
    {"grad", l_grad, "nn.grad(outputs, inputs [, grad_outputs] [, {retain_graph}]) -> list",
     "The gradients of outputs with respect to inputs (tensors or lists), without touching "
     ".grad; an input no path reaches gets zeros."},
    {"jvp", l_jvp, "nn.jvp(fn, inputs, tangents) -> outputs, output_tangents",
     "Forward mode: runs fn on inputs carrying tangents and returns its outputs with their "
     "directional derivatives (tensors for one, lists for several)."},
    {"queue_callback", l_queue_callback, "nn.queue_callback(fn)",
     "From a gradient hook: runs fn(ok) once the whole backward has ended (every .grad "
     "accumulated); ok is false when the backward failed."},
    {NULL, NULL, NULL, NULL}};

/* Names an accessor in error messages: "nn.requires_grad: ..." */
static void accessor(lua_State *L, bool setter, const char *name, lua_CFunction f) {
  (setter ? lnn_setter : lnn_getter)(L, name, f);
  lua_getfield(L, LUA_REGISTRYINDEX, setter ? "nn.setters" : "nn.getters");
  lua_getfield(L, -1, name);
  const char *fname = lua_pushfstring(L, "nn.%s", name);
  lnn_name_function(L, -2, fname);
  lua_pop(L, 3);
}

void lnn_open_autograd(lua_State *L) {
  if (luaL_newmetatable(L, GUARD_MT)) {
    lua_pushcfunction(L, guard_close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, guard_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, GRAD_FN_MT)) {
    lua_pushcfunction(L, grad_fn_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  accessor(L, false, "requires_grad", get_requires_grad);
  accessor(L, true, "requires_grad", set_requires_grad);
  accessor(L, false, "grad", get_grad);
  accessor(L, true, "grad", set_grad);
  accessor(L, false, "grad_fn", get_grad_fn);
  accessor(L, false, "is_leaf", get_is_leaf);
  lnn_register(L, "Autograd", LNN_METHOD, methods);
  lnn_register(L, "Autograd", LNN_FUNC, functions);
}
