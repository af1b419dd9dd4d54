/*
** nn/lua/lhooks.c: Lua code that the core calls back in the middle of a backward pass:
** gradient hooks (x:register_hook) and the backward of custom ops (nn.Function).
**
** The core knows these by number. A number (an id) indexes the registry table
** "nn.callbacks": there, a list of hook functions, or an nn.Function call's record
** {fn = the Function, ctx = its ctx, pos = where its tensor arguments were, nargs = how many
** arguments}. The core forgets an id when the tensor or node holding it dies, which may
** happen anywhere, in a finalizer or inside lua_close, where no Lua call is safe; so forgetting
** only queues the id, and the queue is emptied into the table by the next call from Lua that
** adds ids or runs a backward. While no Lua state has nn open (the last one closed), nothing
** is queued: the ids belonged to the dead state.
**
** The core calls back from C, deep inside nn_backward, with no lua_State in hand: the Lua
** thread that started the pass is kept in active_L (the core is single-threaded). A callback
** must never raise through the core (a longjmp would skip its clean-up), so each runs under
** lua_pcall; an error becomes the core's error message, the core unwinds and returns -1, and
** nn.backward or nn.grad raises it. A callback may itself run a backward (e.g. a Function's
** backward that recomputes its forward and calls nn.grad), but only on a graph of its own:
** tensors of the outer graph must come in detached.
*/
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <lauxlib.h>

#include "nn/autograd.h"
#include "nn/lua/lnn.h"

static const char CALLBACKS[] = "nn.callbacks", SENTINEL[] = "nn.callbacks.sentinel";
/* Hook lists are held by the box they were registered through (an ephemeron: a hook that
   refers to its own tensor does not keep it alive) and found by id in a weak table; a box
   that dies while the core still holds its tensor (a graph) hands its lists to CALLBACKS. */
static const char HOOKS_BY_ID[] = "nn.hooks.by_id", HOOKS_BY_BOX[] = "nn.hooks.by_box";
static const char HANDLE_MT[] = "nn.HookHandle", FUNCTION_MT[] = "nn.Function",
                  CTX_MT[] = "nn.FunctionCtx";

static lua_State *active_L; /* the thread running the current backward, or NULL */
static int live_states;     /* Lua states with nn open */
static int last_id;
static int *queue; /* ids forgotten by the core, not yet removed from the table */
static size_t nqueue, queue_cap;

/* ---- ids ---- */

static void forget(int id) {
  if (live_states == 0 || id <= 0) return;
  if (nqueue == queue_cap) {
    size_t cap = queue_cap ? 2 * queue_cap : 64;
    int *grown = realloc(queue, cap * sizeof *grown);
    if (!grown) return; /* the entry stays in the table until the state closes */
    queue = grown, queue_cap = cap;
  }
  queue[nqueue++] = id;
}

static void forget_user(void *user) {
  forget((int)(intptr_t)user);
}

static void push_callbacks(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, CALLBACKS);
}

static void purge(lua_State *L) {
  if (nqueue == 0) return;
  push_callbacks(L);
  lua_getfield(L, LUA_REGISTRYINDEX, HOOKS_BY_ID);
  while (nqueue > 0) { /* storing nil never allocates */
    int id = queue[--nqueue];
    lua_pushnil(L);
    lua_rawseti(L, -3, id);
    lua_pushnil(L);
    lua_rawseti(L, -2, id);
  }
  lua_pop(L, 2);
}

/* Pushes the hook list of id (nil when none) and returns its type. */
static int push_hook_list(lua_State *L, int id) {
  push_callbacks(L);
  if (lua_rawgeti(L, -1, id) == LUA_TTABLE) {
    lua_remove(L, -2);
    return LUA_TTABLE;
  }
  lua_pop(L, 2);
  lua_getfield(L, LUA_REGISTRYINDEX, HOOKS_BY_ID);
  int type = lua_rawgeti(L, -1, id);
  lua_remove(L, -2);
  return type;
}

/* The hook id of t (0: none). */
static int hook_id(const nn_tensor *t) {
  return t->grad_fn ? t->grad_fn->hooks[t->out_index] : t->hooks;
}

void lnn_box_dying(lua_State *L, int box, const nn_tensor *t) {
  int id = t ? hook_id(t) : 0;
  if (!id || t->refs == 1) return; /* no hooks, or they die with the tensor */
  box = lua_absindex(L, box);
  lua_getfield(L, LUA_REGISTRYINDEX, HOOKS_BY_BOX);
  lua_pushvalue(L, box);
  if (lua_type(L, -2) == LUA_TTABLE && lua_rawget(L, -2) == LUA_TTABLE) {
    push_callbacks(L);
    lua_insert(L, -2);
    lua_rawseti(L, -2, id);
    lua_pop(L, 1);
  } else {
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* Stores the value on top (popped) under a new id, returned. */
static int store(lua_State *L) {
  push_callbacks(L);
  lua_insert(L, -2);
  last_id = last_id == INT_MAX ? 1 : last_id + 1;
  lua_rawseti(L, -2, last_id);
  lua_pop(L, 1);
  return last_id;
}

/* Finalized when the state closes, after every tensor (finalizers run in the reverse order
   of their creation, and this one was made when nn was opened). */
static int state_closed(lua_State *L) {
  (void)L;
  if (--live_states == 0) nqueue = 0;
  return 0;
}

lua_State *lnn_backward_begin(lua_State *L) {
  purge(L);
  lua_State *prev = active_L;
  active_L = L;
  return prev;
}

void lnn_backward_end(lua_State *prev) {
  active_L = prev;
}

/* ---- calling Lua from the core ---- */

/* Runs f(ud) protected, on the thread of the backward; 0, or -1 with the error as the core's
   message. f raises complete messages. */
static int callback(lua_CFunction f, void *ud, const char *what) {
  lua_State *L = active_L;
  if (!L) return nn_errc("%s can only run in a backward started from Lua", what);
  if (!lua_checkstack(L, 2)) return nn_errc("stack overflow running %s", what);
  lua_pushcfunction(L, f);
  lua_pushlightuserdata(L, ud);
  if (lua_pcall(L, 1, 0, 0) == LUA_OK) return 0;
  if (lua_type(L, -1) == LUA_TSTRING)
    nn_errc("%s", lua_tostring(L, -1));
  else
    nn_errc("%s failed with a %s value as its error", what, luaL_typename(L, -1));
  lua_pop(L, 1);
  return -1;
}

/* Calls the function below the nargs arguments on top, protected; on error raises
   "<what> failed: <message>". */
static void call_user(lua_State *L, int nargs, int nresults, const char *what) {
  if (lua_pcall(L, nargs, nresults, 0) == LUA_OK) return;
  const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(not a string)";
  luaL_error(L, "%s failed: %s", what, msg);
}

/* ---- gradient hooks ---- */

typedef struct hook_call {
  int id;
  nn_tensor *grad, *result;
} hook_call;

/* The hooks of the id in order: each fn(grad) returns nil, or the gradient to use from then
   on (of the same shape and dtype). */
static int run_hooks_protected(lua_State *L) {
  hook_call *c = lua_touserdata(L, 1);
  if (push_hook_list(L, c->id) != LUA_TTABLE) {
    c->result = nn_retain(c->grad);
    return 0;
  }
  int list = lua_gettop(L);
  lnn_push(L, nn_retain(c->grad));
  int cur = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, list);
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_rawgeti(L, list, i) == LUA_TBOOLEAN) { /* removed */
      lua_pop(L, 1);
      continue;
    }
    lua_pushvalue(L, cur);
    call_user(L, 1, 1, "a gradient hook");
    nn_tensor *g = lnn_test(L, -1);
    if (!g && !lua_isnil(L, -1))
      return luaL_error(L, "a gradient hook returned a %s, expected a tensor or nil",
                        luaL_typename(L, -1));
    if (g && (!nn_same_shape(g, c->grad) || g->dtype != c->grad->dtype))
      return luaL_error(L,
                        "a gradient hook returned a %s tensor of shape %s for a %s gradient "
                        "of shape %s",
                        nn_dtype_name(g->dtype), nn_shape_str(g), nn_dtype_name(c->grad->dtype),
                        nn_shape_str(c->grad));
    if (g)
      lua_replace(L, cur);
    else
      lua_pop(L, 1);
  }
  c->result = nn_retain(lnn_check(L, cur));
  return 0;
}

static nn_tensor *run_hooks(int id, nn_tensor *grad) {
  hook_call c = {id, grad, NULL};
  if (callback(run_hooks_protected, &c, "a gradient hook") == 0) return c.result;
  nn_release(c.result);
  return NULL;
}

typedef struct handle {
  int id;
  lua_Integer index;
} handle;

static int handle_remove(lua_State *L) {
  handle *h = luaL_checkudata(L, 1, HANDLE_MT);
  if (push_hook_list(L, h->id) == LUA_TTABLE) {
    lua_pushboolean(L, 0);
    lua_rawseti(L, -2, h->index);
  }
  return 0;
}

static int handle_tostring(lua_State *L) {
  handle *h = luaL_checkudata(L, 1, HANDLE_MT);
  lua_pushfstring(L, "hook handle %d.%d", h->id, (int)h->index);
  return 1;
}

/* x:register_hook(fn) -> handle. A leaf's hooks see each gradient before it is added into
   x.grad; others' see the sum of gradients reaching x before it flows on. */
static int l_register_hook(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  if (!lnn_is_callable(L, 2)) return lnn_argerror(L, 2, "a function");
  if (!t->requires_grad)
    return lnn_errorf(L, "cannot register a hook on a tensor that does not require grad");
  lua_settop(L, 2);
  purge(L);
  int *slot = t->grad_fn ? &t->grad_fn->hooks[t->out_index] : &t->hooks;
  if (*slot == 0 || push_hook_list(L, *slot) != LUA_TTABLE) {
    if (*slot) lua_pop(L, 1);
    lua_newtable(L);
    last_id = last_id == INT_MAX ? 1 : last_id + 1;
    *slot = last_id;
    lua_getfield(L, LUA_REGISTRYINDEX, HOOKS_BY_ID);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, *slot);
    lua_pop(L, 1);
  }
  lua_getfield(L, LUA_REGISTRYINDEX, HOOKS_BY_BOX); /* the box holds the list */
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_Integer index = (lua_Integer)lua_rawlen(L, -1) + 1;
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, index);
  handle *h = lua_newuserdatauv(L, sizeof *h, 0);
  *h = (handle){*slot, index};
  luaL_setmetatable(L, HANDLE_MT);
  return 1;
}

/* ---- nn.Function ---- */

static int function_vjp(const nn_ctx *c, nn_tensor *const *gout, const bool *need, nn_tensor **gin);
static int function_jvp(const nn_ctx *c, nn_tensor *const *tin, nn_tensor **tout);
/* Nodes of nn.Function calls: no forward (the Lua forward runs in the binding); backward and
   jvp call the Lua functions. attr.i[0] is the id of the call's record. */
static const nn_op function_op = {
    .name = "function", .nin = -1, .vjp_multi = function_vjp, .jvp_multi = function_jvp};

bool lnn_push_function_name(lua_State *L, const nn_node *n) {
  if (n->ctx.op != &function_op) return false;
  int top = lua_gettop(L);
  const char *name = "Function"; /* when the record is gone (after backward) */
  push_callbacks(L);
  if (lua_rawgeti(L, -1, (int)(intptr_t)n->user) == LUA_TTABLE &&
      lua_getfield(L, -1, "fn") == LUA_TTABLE && lua_getfield(L, -1, "name") == LUA_TSTRING)
    name = lua_tostring(L, -1);
  lua_pushstring(L, name);
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
  return true;
}

/* One call of a Function's backward (gout per output, gin per input) or jvp (gout: the
   inputs' tangents, gin: the outputs'). */
typedef struct user_call {
  const nn_ctx *c;
  nn_tensor *const *gout;
  const bool *need;
  nn_tensor **gin;
} user_call;

/* The tensor returned at stack index idx for x (shape checked, converted to x's dtype). */
static nn_tensor *take_tensor(lua_State *L, int idx, const nn_tensor *x, const char *what,
                              const char *noun, int k) {
  nn_tensor *g = lnn_test(L, idx);
  if (!g) {
    if (lua_isnil(L, idx)) return NULL;
    luaL_error(L, "%s returned a %s for %s %d, expected a tensor or nil", what,
               luaL_typename(L, idx), noun, k);
  }
  if (x && !nn_same_shape(g, x))
    luaL_error(L, "%s returned a gradient of shape %s for %s %d of shape %s", what, nn_shape_str(g),
               noun, k, nn_shape_str(x));
  nn_tensor *r = !x || g->dtype == x->dtype ? nn_retain(g) : nn_to(g, x->dtype);
  if (!r) luaL_error(L, "%s", nn_errmsg());
  return r;
}

/* Pushes the record's fields: fn, then "<what> of <name>"; returns the record's index. */
static int push_record(lua_State *L, const nn_ctx *c, const char *what) {
  push_callbacks(L);
  if (lua_rawgeti(L, -1, (int)c->attr.i[0]) != LUA_TTABLE)
    luaL_error(L, "the record of an nn.Function call is gone");
  int rec = lua_gettop(L);
  lua_getfield(L, rec, "fn");
  lua_getfield(L, -1, "name");
  lua_pushfstring(L, "the %s of %s", what, lua_tostring(L, -1));
  return rec;
}

/* backward(ctx, grad_1, ..., grad_nout) -> one gradient (or nil) per argument of forward; a
   grad is nil for an output no gradient reached */
static int function_vjp_protected(lua_State *L) {
  user_call *v = lua_touserdata(L, 1);
  int rec = push_record(L, v->c, "backward");
  const char *what = lua_tostring(L, -1);
  lua_getfield(L, rec, "pos");
  lua_getfield(L, rec, "nargs");
  int pos = rec + 4, nargs = (int)lua_tointeger(L, -1), base = lua_gettop(L);
  lua_getfield(L, rec + 1, "backward");
  lua_getfield(L, rec, "ctx");
  for (int k = 0; k < v->c->nout; k++) {
    if (v->gout[k])
      lnn_push(L, nn_retain(v->gout[k]));
    else
      lua_pushnil(L);
  }
  call_user(L, 1 + v->c->nout, LUA_MULTRET, what);
  int nres = lua_gettop(L) - base;
  if (nres > nargs)
    return luaL_error(L, "%s returned %d values for %d arguments of forward", what, nres, nargs);
  for (int k = 0; k < v->c->nin; k++) {
    lua_rawgeti(L, pos, k + 1);
    int arg = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (v->need[k] && arg <= nres)
      v->gin[k] = take_tensor(L, base + arg, v->c->in[k], what, "argument", arg);
  }
  return 0;
}

/* jvp(ctx, tangent per argument of forward (nil where none)) -> one tangent per output */
static int function_jvp_protected(lua_State *L) {
  user_call *v = lua_touserdata(L, 1);
  int rec = push_record(L, v->c, "jvp");
  const char *what = lua_tostring(L, -1);
  lua_getfield(L, rec, "pos");
  lua_getfield(L, rec, "nargs");
  int pos = rec + 4, nargs = (int)lua_tointeger(L, -1), base = lua_gettop(L);
  luaL_checkstack(L, nargs + 2, "too many arguments");
  lua_getfield(L, rec + 1, "jvp");
  lua_getfield(L, rec, "ctx");
  for (int a = 1; a <= nargs; a++) lua_pushnil(L);
  for (int k = 0; k < v->c->nin; k++) {
    lua_rawgeti(L, pos, k + 1);
    int arg = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (v->gout[k]) {
      lnn_push(L, nn_retain(v->gout[k]));
      lua_replace(L, base + 2 + arg);
    }
  }
  call_user(L, 1 + nargs, LUA_MULTRET, what);
  int nres = lua_gettop(L) - base, nout = v->c->nout;
  if (nres != nout)
    return luaL_error(L, "%s returned %d values for %d outputs of forward", what, nres, nout);
  for (int k = 0; k < nout; k++)
    v->gin[k] = take_tensor(L, base + 1 + k, NULL, what, "output", k + 1);
  return 0;
}

static int function_vjp(const nn_ctx *c, nn_tensor *const *gout, const bool *need,
                        nn_tensor **gin) {
  user_call v = {c, gout, need, gin};
  return callback(function_vjp_protected, &v, "the backward of an nn.Function");
}

static int function_jvp(const nn_ctx *c, nn_tensor *const *tin, nn_tensor **tout) {
  user_call v = {c, tin, NULL, tout};
  return callback(function_jvp_protected, &v, "the jvp of an nn.Function");
}

static int ctx_save_for_backward(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  int n = lua_gettop(L) - 1;
  lua_createtable(L, n, 0);
  for (int k = 1; k <= n; k++) {
    lua_pushvalue(L, k + 1);
    lua_rawseti(L, -2, k);
  }
  lua_setfield(L, 1, "saved_tensors");
  return 0;
}

/* ctx for one call: needs_input_grad per argument; pos lists where the tensor arguments
   are (pushed after ctx); their tensors go into in. Returns how many tensors. */
static int new_ctx(lua_State *L, int first, int nargs, nn_tensor **in) {
  lua_createtable(L, 0, 2);
  luaL_setmetatable(L, CTX_MT);
  lua_createtable(L, nargs, 0);
  lua_newtable(L);
  int nin = 0;
  for (int a = 1; a <= nargs; a++) {
    nn_tensor *t = lnn_test(L, first + a - 1);
    lua_pushboolean(L, t && t->requires_grad && nn_grad_enabled());
    lua_rawseti(L, -3, a);
    if (!t) continue;
    in[nin++] = t;
    lua_pushinteger(L, a);
    lua_rawseti(L, -2, nin);
  }
  lua_insert(L, -2);
  lua_setfield(L, -3, "needs_input_grad");
  return nin;
}

/* Records one node for the nout outputs (aliases, on top) made from in, keeping
   {fn, ctx, pos, nargs} (self at 1, ctx and pos at the given indices) for backward and jvp.
   The tangents of the outputs are computed here, by the Function's jvp. */
static void record(lua_State *L, int ctx, int pos, int nargs, int nin, nn_tensor **in, int nout) {
  nn_tensor *out[NN_MAXOUT];
  int first = lua_gettop(L) - nout + 1;
  for (int k = 0; k < nout; k++) out[k] = lnn_check(L, first + k);
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "fn");
  lua_pushvalue(L, ctx);
  lua_setfield(L, -2, "ctx");
  lua_pushvalue(L, pos);
  lua_setfield(L, -2, "pos");
  lua_pushinteger(L, nargs);
  lua_setfield(L, -2, "nargs");
  int id = store(L);
  nn_attr a = {.i = {id}, .ni = 1};
  lua_State *prev = lnn_backward_begin(L); /* the jvp, if any, runs on L */
  int rc = nn_autograd_record_multi(&function_op, nin, in, &a, nout, out, 0, NULL);
  lnn_backward_end(prev);
  if (rc < 0 || !out[0]->grad_fn) forget(id);
  if (rc < 0) lnn_error(L, NULL);
  if (!out[0]->grad_fn) return;
  out[0]->grad_fn->user = (void *)(intptr_t)id;
  out[0]->grad_fn->user_free = forget_user;
}

/* f(...): forward(ctx, ...) with autograd quiet, then one node for the whole call */
static int l_function_call(lua_State *L) {
  int nargs = lua_gettop(L) - 1;
  luaL_checkstack(L, nargs + 8 + NN_MAXOUT, "too many arguments");
  purge(L);
  nn_tensor **in = lua_newuserdatauv(L, (size_t)(nargs + 1) * sizeof *in, 0);
  int nin = new_ctx(L, 2, nargs, in), ctx = lua_gettop(L) - 1, pos = ctx + 1;
  /* boxes of our own keep the inputs alive: forward may close the caller's (<close>) */
  for (int k = 0; k < nin; k++) lnn_push(L, nn_retain(in[k]));
  bool needs = false, tangents = false;
  for (int k = 0; k < nin; k++) {
    tangents |= in[k]->tangent != NULL && nn_fwd_active();
    needs |= in[k]->requires_grad;
  }
  needs &= nn_grad_enabled();
  if (tangents) {
    bool has = lua_getfield(L, 1, "jvp") != LUA_TNIL;
    lua_getfield(L, 1, "name");
    if (!has)
      return lnn_errorf(L, "%s has no forward-mode derivative (give it jvp = function(ctx, ...))",
                        lua_tostring(L, -1));
    lua_pop(L, 2);
  }
  lnn_push_quiet_mode(L);
  int guard = lua_gettop(L);
  lua_toclose(L, guard);
  lua_getfield(L, 1, "forward");
  lua_pushvalue(L, ctx);
  for (int a = 1; a <= nargs; a++) lua_pushvalue(L, a + 1);
  lua_call(L, nargs + 1, LUA_MULTRET);
  lua_closeslot(L, guard);
  int nres = lua_gettop(L) - guard;
  int bad = 0; /* the first result that is no tensor */
  for (int k = 1; !bad && k <= nres; k++) bad = lnn_test(L, guard + k) ? 0 : k;
  if (nres == 0 || nres > NN_MAXOUT || bad)
    return lnn_errorf(L, "forward must return 1 to %d tensors, got %s", NN_MAXOUT,
                      nres == 0          ? "nothing"
                      : nres > NN_MAXOUT ? lua_pushfstring(L, "%d values", nres)
                                         : lua_pushfstring(L, "a %s as result %d",
                                                           luaL_typename(L, guard + bad), bad));
  if (!needs && !tangents) return nres;
  for (int k = 0; k < nres; k++) { /* the outputs own the node: never an input */
    lnn_push(L, nn_alias(lnn_check(L, guard + 1 + k)));
    lua_replace(L, guard + 1 + k);
  }
  record(L, ctx, pos, nargs, nin, in, nres);
  return nres;
}

static int function_tostring(lua_State *L) {
  lua_getfield(L, 1, "name");
  lua_pushfstring(L, "nn.Function(%s)", lua_tostring(L, -1));
  return 1;
}

/* nn.Function{forward = f, backward = g [, jvp = h] [, name = "Square"]} */
static int l_function(lua_State *L) {
  if (!lua_istable(L, 1))
    return lnn_argerror(L, 1, "a table {forward = function, backward = function}");
  lua_createtable(L, 0, 4);
  for (int k = 0; k < 3; k++) {
    const char *field = k == 0 ? "forward" : k == 1 ? "backward" : "jvp";
    lua_getfield(L, 1, field);
    if (k == 2 && lua_isnil(L, -1)) {
      lua_pop(L, 1);
      continue;
    }
    if (!lnn_is_callable(L, -1))
      return lnn_errorf(L, "%s must be a function, got %s", field, luaL_typename(L, -1));
    lua_setfield(L, -2, field);
  }
  if (lua_getfield(L, 1, "name") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushstring(L, "Function");
  } else if (!lua_isstring(L, -1)) {
    return lnn_errorf(L, "name must be a string, got %s", luaL_typename(L, -1));
  }
  lua_setfield(L, -2, "name");
  luaL_setmetatable(L, FUNCTION_MT);
  return 1;
}

/* ---- registration ---- */

static const lnn_reg methods[] = {
    {"register_hook", l_register_hook, "x:register_hook(fn) -> handle",
     "Calls fn(grad) whenever a gradient for x is computed; fn may return a tensor to use "
     "instead. handle:remove() unregisters it."},
    {NULL, NULL, NULL, NULL}};

static const lnn_reg functions[] = {
    {"Function", l_function,
     "nn.Function{forward = f, backward = g [, jvp = h] [, name]} -> callable",
     "A differentiable op written in Lua: forward(ctx, ...) returns 1 to 4 tensors, "
     "backward(ctx, grad_1, ...) (nil for an output no gradient reached) one gradient (or nil) "
     "per argument, jvp(ctx, tangent per argument, nil where none) one tangent per output "
     "(forward mode, nn.jvp); ctx:save_for_backward(...) keeps tensors in ctx.saved_tensors, "
     "ctx.needs_input_grad tells which are wanted."},
    {NULL, NULL, NULL, NULL}};

static void new_metatable(lua_State *L, const char *name, const luaL_Reg *fields) {
  luaL_newmetatable(L, name);
  luaL_setfuncs(L, fields, 0);
}

static void weak_table(lua_State *L, const char *name, const char *mode) {
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushstring(L, mode);
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, name);
}

void lnn_open_hooks(lua_State *L) {
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, CALLBACKS);
  weak_table(L, HOOKS_BY_ID, "v");
  weak_table(L, HOOKS_BY_BOX, "k");
  lua_newuserdatauv(L, 1, 0);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, state_closed);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, SENTINEL);
  live_states++;
  nn_hooks.run = run_hooks;
  nn_hooks.drop = forget;

  new_metatable(L, HANDLE_MT, (luaL_Reg[]){{"__tostring", handle_tostring}, {NULL, NULL}});
  lua_newtable(L);
  lua_pushcfunction(L, handle_remove);
  lnn_name_function(L, -1, "handle:remove");
  lua_setfield(L, -2, "remove");
  lua_setfield(L, -2, "__index");
  new_metatable(L, CTX_MT, (luaL_Reg[]){{NULL, NULL}});
  lua_newtable(L);
  lua_pushcfunction(L, ctx_save_for_backward);
  lua_setfield(L, -2, "save_for_backward");
  lua_setfield(L, -2, "__index");
  new_metatable(L, FUNCTION_MT, (luaL_Reg[]){{"__tostring", function_tostring}, {NULL, NULL}});
  lua_pushcfunction(L, l_function_call);
  lnn_name_function(L, -1, "nn.Function");
  lua_setfield(L, -2, "__call");
  lua_pop(L, 3);

  lnn_register(L, "Autograd", LNN_METHOD, methods);
  lnn_register(L, "Autograd", LNN_FUNC, functions);
}
