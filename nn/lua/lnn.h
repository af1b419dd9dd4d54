/*
** nn/lua/lnn.h: the Lua binding of the nn core (the only nn/ code that includes lua.h).
**
** A tensor in Lua is a userdata box holding one reference to an nn_tensor, with the one
** metatable "nn.Tensor". The helpers below are for every binding file (tensors, autograd,
** io, ...; other C modules such as viz read tensors through lnn_capi.h instead): they read
** arguments the way the API promises (1-based dims, sizes as varargs or a table, numbers
** where scalars make sense) and raise errors that start with the Lua function's name.
**
** Every function the binding registers carries its documentation (a signature and a
** sentence) in an lnn_reg table; lnn_register stores it where nn.help finds it. The docs
** also name the running function in error messages: lnn_error(L, NULL) looks it up.
*/
#ifndef LNN_H
#define LNN_H

#include <lua.h>

#include "nn/tensor.h"

int luaopen_nn(lua_State *L);

/* ---- the tensor userdata ---- */

/* The tensor at idx; raises when it is not a tensor, or was closed. */
nn_tensor *lnn_check(lua_State *L, int idx);
/* The tensor at idx, or NULL when idx is none or nil; raises on anything else. */
nn_tensor *lnn_opt(lua_State *L, int idx);
/* The tensor at idx, or NULL when idx holds no tensor (never raises, except when closed). */
nn_tensor *lnn_test(lua_State *L, int idx);
/* Whether idx holds a tensor box, even a closed one. */
bool lnn_is_tensor(lua_State *L, int idx);
/* Pushes a new box taking over the reference t; if t is NULL, raises the core's error. */
void lnn_push(lua_State *L, nn_tensor *t);
/* the same, for closures that carry the tensor metatable as upvalue mt_upvalue (0: look it
   up in the registry) */
void lnn_push_mt(lua_State *L, nn_tensor *t, int mt_upvalue);
/* A number or a tensor at idx as a tensor (a new reference: release it). A Lua number
   becomes a 0-dim tensor of like's dtype when like is float or the number is an integer,
   else f32 (an i64 tensor times 0.5 is f32, as in PyTorch); like may be NULL. */
nn_tensor *lnn_totensor(lua_State *L, int idx, const nn_tensor *like);
/* Sets every element of t to v, the scalar read at idx (lnn_checkscalar): from idx itself when
   it holds an integer and t is i64, which v, a double, would round beyond 2^53. */
void lnn_fill(lua_State *L, nn_tensor *t, int idx, double v);
/* Pushes the element at p as a Lua value: integers stay integers. */
void lnn_push_element(lua_State *L, const void *p, nn_dtype dt);

/* ---- errors: "<fname>: <message>"; fname NULL means the running function's nn name ---- */

int lnn_error(lua_State *L, const char *fname);     /* the message is nn_errmsg() */
int lnn_errorf(lua_State *L, const char *fmt, ...); /* prefixed with the running function */
int lnn_argerror(lua_State *L, int arg, const char *expected); /* "argument 2 must be ..." */
const char *lnn_fname(lua_State *L); /* "nn.zeros": the running C function's name */

/* ---- argument readers ---- */

/* Sizes from arg on: a table {2,3} or integers 2, 3 up to the first non-number (a dtype
   string may follow). Returns the number of sizes. Sizes are not checked (-1 passes). */
int lnn_checkshape(lua_State *L, int arg, int64_t *shape);
/* A 1-based dim (negative from the end) for a tensor of ndim dims, as 0-based. */
int lnn_checkdim(lua_State *L, int arg, int ndim);
int lnn_optdim(lua_State *L, int arg, int ndim, int def); /* def when none or nil */
/* A 1-based index (negative from the end) into size elements, as 0-based. */
int64_t lnn_checkindex(lua_State *L, int arg, int64_t size, int dim);
nn_dtype lnn_checkdtype(lua_State *L, int arg);
nn_dtype lnn_optdtype(lua_State *L, int arg, nn_dtype def);
/* Numbers, with errors that name the function (luaL_check* would not). */
lua_Integer lnn_checkinteger(lua_State *L, int arg);
lua_Integer lnn_optinteger(lua_State *L, int arg, lua_Integer def);
double lnn_checknumber(lua_State *L, int arg);
double lnn_optnumber(lua_State *L, int arg, double def);
/* A number argument, or a 0-dim/one-element tensor's value. */
double lnn_checkscalar(lua_State *L, int arg);
/* Field k of the options table at t, checked; def when nil. */
double lnn_optfield_number(lua_State *L, int t, const char *k, double def);
bool lnn_optfield_boolean(lua_State *L, int t, const char *k, bool def);
bool lnn_optboolean(lua_State *L, int arg, bool def); /* nil: def; else it must be a boolean */
/* "unknown option 'key' (known: a, b)" unless every key of the table at t is in known (a
   NULL-terminated list) */
void lnn_check_keys(lua_State *L, int t, const char *const *known);
/* Whether arg is a function or has a __call metamethod (the stack is left as it was). */
bool lnn_is_callable(lua_State *L, int arg);

/* Index tensors: the user's 1-based i64 indices (a tensor, a number or a table of
   integers at arg) as a new 0-based tensor; and a 0-based core result pushed as a new
   1-based tensor (idx is released; NULL raises the core's error). A copy, not in place:
   the core's indices may share memory with what autograd saved. */
nn_tensor *lnn_index0(lua_State *L, int arg);
void lnn_push_index1(lua_State *L, nn_tensor *idx);

/* ---- registration and docs ---- */

typedef struct lnn_reg {
  const char *name; /* as in nn.name or x:name */
  lua_CFunction func;
  const char *sig; /* "nn.zeros(...) -> tensor" */
  const char *doc; /* one sentence */
} lnn_reg;

enum { LNN_FUNC = 1, LNN_METHOD = 2, LNN_BOTH = 3 }; /* where a function goes */

/* Registers regs (ended by a NULL name) under topic: as nn.name, as a tensor method, or
   both, each with its doc. Call during luaopen_nn (the nn table is in the registry). */
void lnn_register(lua_State *L, const char *topic, int where, const lnn_reg *regs);
/* Registers the function on top of the stack (popped) as nn.name and/or a method. */
void lnn_register_top(lua_State *L, const char *topic, int where, const lnn_reg *doc);
/* Fields read as x.name: f(x) returns the value. Setters: f(x, v) for x.name = v. */
void lnn_getter(lua_State *L, const char *name, lua_CFunction f);
void lnn_setter(lua_State *L, const char *name, lua_CFunction f);
/* Names the function at idx in error messages without documenting it (metamethods). */
void lnn_name_function(lua_State *L, int idx, const char *fname);

/* ---- memory: tells the collector about C memory after an allocating call ---- */
void lnn_gc_check(lua_State *L);
/* Before an op on x (and y, or NULL) that makes a result of nbytes: frees dead large results
   first (ltensor.c). */
void lnn_gc_before(lua_State *L, size_t nbytes, const nn_tensor *x, const nn_tensor *y);
/* The same before an op whose result has x's elements times num / den (1, 1: shaped as x). */
void lnn_gc_before_like(lua_State *L, const nn_tensor *x, size_t num, size_t den);

/* ---- autograd (lautograd.c, lhooks.c) ---- */

/* Raises when changing dst in place (from src, which may be NULL) would corrupt gradients:
   either is tracked by autograd and grad mode is on. For in-place methods that write through
   raw core calls (fill_, copy_, x[i] = v); ops run by nn_call_into check by themselves. */
void lnn_check_inplace(lua_State *L, nn_tensor *dst, nn_tensor *src);
/* Pushes a guard that restores the current grad mode when closed (mark it to-be-closed),
   then sets the mode to on. */
void lnn_push_grad_mode(lua_State *L, bool on);
/* The same, turning grad mode off and suspending forward mode (nn.Function's forward). */
void lnn_push_quiet_mode(lua_State *L);
/* Pushes and returns the PyTorch-style name of the node that made t ("MulBackward"). */
const char *lnn_push_grad_fn_name(lua_State *L, const nn_tensor *t);
/* Pushes the name of an nn.Function's node and returns true; false (nothing pushed) for
   nodes of the core's ops. */
bool lnn_push_function_name(lua_State *L, const nn_node *n);
/* Brackets a backward pass started from Lua: the Lua code the core calls back (gradient
   hooks, nn.Function backwards) runs on L. Returns what lnn_backward_end restores. */
/* a tensor's box at idx is being collected: hooks registered through it that the core may
   still run (t is held elsewhere) move to a strong table */
void lnn_box_dying(lua_State *L, int box, const nn_tensor *t);
lua_State *lnn_backward_begin(lua_State *L);
void lnn_backward_end(lua_State *prev);

/* the parts of luaopen_nn, one per binding file */
void lnn_open_tensor(lua_State *L);    /* ltensor.c: the metatable (first) */
void lnn_open_docs(lua_State *L);      /* ldoc.c: the docs table */
void lnn_open_create(lua_State *L);    /* lcreate.c */
void lnn_open_shape(lua_State *L);     /* lshape.c */
void lnn_open_math(lua_State *L);      /* lmath.c */
void lnn_open_reduce(lua_State *L);    /* lreduce.c */
void lnn_open_index(lua_State *L);     /* lindex.c */
void lnn_open_linalg(lua_State *L);    /* llinalg.c */
void lnn_open_autograd(lua_State *L);  /* lautograd.c */
void lnn_open_hooks(lua_State *L);     /* lhooks.c */
void lnn_open_nnfunc(lua_State *L);    /* lnnfunc.c */
void lnn_open_conv(lua_State *L);      /* lconv.c */
void lnn_open_scan(lua_State *L);      /* lscan.c */
void lnn_open_recurrent(lua_State *L); /* lrecurrent.c */
void lnn_open_io(lua_State *L);        /* lio.c */
void lnn_open_util(lua_State *L);      /* lutil.c */
void lnn_open_stats(lua_State *L);     /* lstats.c: the table nn.stats */
void lnn_open_rules(lua_State *L);     /* lrules.c: kernels of nn.rules */
void lnn_open_ops(lua_State *L);       /* lops.c: sort, cumsum, flip, chunk, ... */
void lnn_open_extra(lua_State *L);     /* lextra.c: arange, *_like, all, any, clipping */
void lnn_open_pool(lua_State *L);      /* lpool.c: pooling */
void lnn_open_act(lua_State *L);       /* lact.c: learnable and gated activations */

#endif
