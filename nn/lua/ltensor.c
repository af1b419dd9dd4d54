/*
** nn/lua/ltensor.c: the tensor userdata: boxes, the metatable and its metamethods.
**
** A box holds one reference to an nn_tensor and a tag. The tag (the address of a static
** of this file) identifies our boxes without a registry lookup: a tensor check on the hot
** path of `a + b` is a size test and a pointer compare. Closing a box (Lua's
** <close>) releases the tensor early and leaves NULL behind, which later uses report.
*/
#include <stdlib.h>

#include <lauxlib.h>

#include "nn/alloc.h"
#include "nn/format.h"
#include "nn/lua/lnn.h"
#include "nn/ops.h"
#include "nn/stream.h"

typedef struct box {
  nn_tensor *t; /* NULL once closed */
  const void *tag;
} box;

static const char TAG = 0;    /* &TAG marks our boxes */
static const char MT_KEY = 0; /* registry[&MT_KEY]: the metatable, for lnn_push */
/* Garbage allowed to pile up between collections: 8 MB, or 8 bytes per byte of Lua heap. A
   full collection costs in proportion to the Lua heap, not to the tensors, so the slack
   follows the heap: what is live in tensors (a dataset held in memory) does not make
   collections dearer, and must not let more garbage pile up beside it. 8 MB is a few steps
   of a small model's garbage: fewer collections only cost memory (the MLP benchmark's epoch
   times with 8 MB and 64 MB agree within noise), more cost time (4 MB is clearly slower). */
static const size_t GC_SLACK = (size_t)8 << 20, GC_SLACK_PER_HEAP_BYTE = 8;
static size_t gc_threshold = (size_t)8 << 20; /* collect when live C memory passes this */
/* Lua's collector paces itself by what Lua allocates, and sees 16 bytes of box for every
   tensor; the headers behind it (a few hundred bytes) are reported to it as debt, GC_STEP
   bytes at a time. Without this, a loop of small ops left ~5 * 10^4 dead tensors between
   collections, far more than the caches hold, and a 1-element add cost 4x more. Data
   buffers are not reported: lnn_gc_check paces them, which costs less than running the
   collector for every large tensor. */
enum { GC_STEP = 16 << 10 };
static size_t gc_unreported; /* header bytes not yet reported */
/* Results of at least LARGE_BLOCK bytes are larger than a core's L2 and share the L3 with
   everything else: each dead one that waits for the collector is one more buffer that the
   next result cannot reuse while it is still in the caches. lnn_gc_before runs a young
   collection before such an op once `period` large results have been boxed since the last
   collection. The period adapts: see lnn_gc_before. */
enum { LARGE_BLOCK = 1 << 20, PERIOD_MAX = 8, PROBE = 128, FRESH_WAIT = 3 };
static int large_results;    /* large results boxed since the last collection */
static uint64_t clock_at_gc; /* nn_alloc_clock() at the last collection */
static size_t large_size;    /* bytes of the last such op's result, if it fits the caches */
static int period = 1;       /* large results between collections before large ops */
static int calm;             /* such collections since the period last changed */

/* ---- boxes ---- */

static box *tobox(lua_State *L, int idx) {
  box *b = lua_touserdata(L, idx); /* a light userdata has rawlen 0 */
  return b && lua_rawlen(L, idx) == sizeof *b && b->tag == &TAG ? b : NULL;
}

bool lnn_is_tensor(lua_State *L, int idx) {
  return tobox(L, idx) != NULL;
}

nn_tensor *lnn_test(lua_State *L, int idx) {
  box *b = tobox(L, idx);
  if (!b) return NULL;
  if (!b->t) lnn_errorf(L, "tensor was closed");
  return b->t;
}

nn_tensor *lnn_check(lua_State *L, int idx) {
  nn_tensor *t = lnn_test(L, idx);
  if (!t) lnn_argerror(L, idx, "a tensor");
  return t;
}

nn_tensor *lnn_opt(lua_State *L, int idx) {
  return lua_isnoneornil(L, idx) ? NULL : lnn_check(L, idx);
}

/* The collector sees only the small boxes; C memory is accounted here instead. When live
   bytes pass the threshold, a young collection (relua runs Lua's collector in generational
   mode) frees the recent garbage, the usual kind, at a fraction of a full collection's cost;
   a full collection follows when that leaves more than twice the slack over what the last
   full one left, so that tensors which died old are freed too. The next threshold leaves
   the slack for new garbage. In incremental mode the step is a small one and the full
   collection does the work, as before. */
static void young_collection(lua_State *L) {
  lua_gc(L, LUA_GCSTEP, 0);
  large_results = 0;
  clock_at_gc = nn_alloc_clock();
}

/* After a young collection: a full one if needed, then the next threshold, which leaves room
   for the slack and for a period of large results (lnn_gc_before frees those; a collection
   at the push of a result would see it alive). Large results freed by the full collection
   died old: the period was shorter than their lives. */
static void settle(lua_State *L) {
  static size_t live_after_full;
  size_t heap = (size_t)lua_gc(L, LUA_GCCOUNT) << 10; /* KB */
  size_t slack =
      heap * GC_SLACK_PER_HEAP_BYTE > GC_SLACK ? heap * GC_SLACK_PER_HEAP_BYTE : GC_SLACK;
  size_t live = nn_alloc_live();
  if (live > live_after_full + 2 * slack) {
    lua_gc(L, LUA_GCCOLLECT, 0);
    if (live - nn_alloc_live() >= LARGE_BLOCK && period < PERIOD_MAX) period++, calm = 0;
    live = live_after_full = nn_alloc_live();
  }
  gc_threshold = live + slack + (size_t)(period + 1) * large_size;
}

void lnn_gc_check(lua_State *L) {
  if (nn_alloc_live() <= gc_threshold) return;
  young_collection(L);
  settle(L);
}

/* Whether x is a large result made since the last collection. */
static bool fresh(const nn_tensor *x) {
  return x && x->storage->nbytes >= LARGE_BLOCK &&
         nn_alloc_stamp(x->storage->data, x->storage->nbytes) > clock_at_gc;
}

/* Before an op whose result takes nbytes (elementwise ops and products call this): a young
   collection frees the dead large results first, so that the result lands in a buffer that
   is still in the caches (the allocator hands out the one written last), nearly as when
   the last reference drops at once, as in PyTorch. A young collection costs about a
   microsecond here, a large op a hundred or more. When:
   - Not while an operand is a fresh result: that is the middle of an expression (the add
     and the relu of `y = (a * b + c):relu()`), where the fresh operand is alive and where
     the collection would find one dead temporary at most. The start of the next one (the
     multiply, on older tensors) finds all of them dead, and the last y.
   - Not before `period` large results since the last collection. An object that two young
     collections find alive turns old and, dead, waits for a full collection: the period
     must be as long as a typical result lives. So it adapts: a full collection that frees
     large results (they died old) lengthens it, and every PROBE collections without one it
     is tried one shorter. Results stay young at 1 in both loops of scripts/bench/temps.lua.
   Measured with cachegrind (32 MB last-level cache, LRU): `y = (a * b + c):relu()` on 10^6
   f32 missed 185 000 lines an iteration (a collection every second large result, buffers
   handed back oldest first), now 700: the loop cycles through four result buffers, as
   PyTorch does. */
void lnn_gc_before(lua_State *L, size_t nbytes, const nn_tensor *x, const nn_tensor *y) {
  if (nbytes < LARGE_BLOCK) return;
  large_size = nn_stream_worth(nbytes) ? 0 : nbytes; /* streamed: no caches to keep hot */
  if (large_results < period || !lua_gc(L, LUA_GCISRUNNING)) return;
  if ((fresh(x) || fresh(y)) && large_results < period + FRESH_WAIT) return;
  young_collection(L);
  if (++calm >= PROBE && period > 1) period--, calm = 0;
  settle(L);
}

void lnn_gc_before_like(lua_State *L, const nn_tensor *x, size_t num, size_t den) {
  lnn_gc_before(L, (size_t)nn_numel(x) * nn_dtype_size(x->dtype) * num / den, x, NULL);
}

static void report_headers(lua_State *L) {
  /* a step would run even a collector the user stopped */
  if (lua_gc(L, LUA_GCISRUNNING)) lua_gc(L, LUA_GCSTEP, (int)(gc_unreported >> 10));
  gc_unreported = 0;
}

/* Boxes t, with the metatable found at upvalue mt_upvalue (the hot closures carry it: that
   is cheaper than a registry lookup), or in the registry when mt_upvalue is 0. */
void lnn_push_mt(lua_State *L, nn_tensor *t, int mt_upvalue) {
  if (!t) lnn_error(L, NULL);
  box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->t = t;
  b->tag = &TAG;
  if (mt_upvalue)
    lua_pushvalue(L, mt_upvalue);
  else
    lua_rawgetp(L, LUA_REGISTRYINDEX, &MT_KEY);
  lua_setmetatable(L, -2);
  gc_unreported += sizeof *t + sizeof *t->storage;
  if (t->storage->nbytes >= LARGE_BLOCK) large_results++;
  if (gc_unreported >= GC_STEP) report_headers(L);
  if (nn_alloc_live() > gc_threshold) lnn_gc_check(L);
}

void lnn_push(lua_State *L, nn_tensor *t) {
  lnn_push_mt(L, t, 0);
}

/* An integer Lua number keeps its exact value in an i64 tensor (doubles stop at 2^53). */
static nn_tensor *scalar_of(lua_State *L, int idx, nn_dtype dt) {
  nn_tensor *s = nn_empty(dt, 0, NULL);
  if (!s) lnn_error(L, NULL);
  if (dt == NN_I64 && lua_isinteger(L, idx))
    *(int64_t *)nn_data(s) = lua_tointeger(L, idx);
  else
    nn_store(nn_data(s), dt, lua_tonumber(L, idx));
  return s;
}

nn_tensor *lnn_totensor(lua_State *L, int idx, const nn_tensor *like) {
  nn_tensor *t = lnn_test(L, idx);
  if (t) return nn_retain(t);
  if (lua_type(L, idx) != LUA_TNUMBER) lnn_argerror(L, idx, "a tensor or a number");
  bool integer = lua_isinteger(L, idx);
  nn_dtype dt = NN_F32;
  if (like && (integer || nn_dtype_is_float(like->dtype)))
    dt = like->dtype;
  else if (!like && integer)
    dt = NN_I64;
  return scalar_of(L, idx, dt);
}

void lnn_fill(lua_State *L, nn_tensor *t, int idx, double v) {
  if (t->dtype != NN_I64 || !lua_isinteger(L, idx)) {
    if (nn_check_fits(t->dtype, v) < 0) lnn_error(L, NULL);
    nn_fill_(t, v);
    return;
  }
  nn_tensor *s = scalar_of(L, idx, NN_I64);
  int rc = nn_copy_(t, s);
  nn_release(s);
  if (rc < 0) lnn_error(L, NULL);
}

void lnn_push_element(lua_State *L, const void *p, nn_dtype dt) {
  if (nn_dtype_is_float(dt))
    lua_pushnumber(L, nn_load(p, dt));
  else
    lua_pushinteger(L, nn_load_i64(p, dt));
}

/* ---- metamethods ---- */

static int l_gc(lua_State *L) {
  box *b = tobox(L, 1);
  if (b) {
    if (b->t && (b->t->hooks || b->t->grad_fn)) lnn_box_dying(L, 1, b->t);
    nn_release(b->t);
    b->t = NULL;
  }
  return 0;
}

/* x[i]: the slice i along dim 1, or for a 1-D tensor the number itself */
static int index_element(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  if (t->ndim == 0) return lnn_errorf(L, "a 0-dim tensor has no elements to index (use x:item())");
  int64_t i = lnn_checkindex(L, 2, t->shape[0], 0);
  if (t->ndim > 1) {
    lnn_push(L, nn_t_select(t, 0, i));
    return 1;
  }
  lnn_push_element(L, nn_data(t) + i * t->stride[0] * (int64_t)nn_dtype_size(t->dtype), t->dtype);
  return 1;
}

/* The edit distance of a and b when it is at most max, else max + 1. */
static size_t edit_distance(const char *a, size_t na, const char *b, size_t nb, size_t max) {
  enum { LONGEST = 40 };
  if (na > LONGEST || nb > LONGEST) return max + 1;
  size_t row[LONGEST + 1];
  for (size_t j = 0; j <= nb; j++) row[j] = j;
  for (size_t i = 1; i <= na; i++) {
    size_t diag = row[0]; /* the previous row's j - 1 */
    row[0] = i;
    for (size_t j = 1; j <= nb; j++) {
      size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      diag = up, row[j] = best;
    }
  }
  return row[nb];
}

/* x.sahpe: "no field sahpe on a tensor; did you mean shape?" (the nearest method or field
   of the tables at upvalues 1 and 2, when one is close) */
static int unknown_field(lua_State *L) {
  size_t n;
  const char *key = lua_tolstring(L, 2, &n);
  size_t best = n <= 3 ? 1 : n / 3 > 2 ? n / 3 : 2;
  const char *near = NULL;
  for (int u = 1; u <= 2; u++) {
    lua_pushnil(L);
    while (lua_next(L, lua_upvalueindex(u))) {
      size_t m;
      const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &m) : NULL;
      size_t d = name ? edit_distance(key, n, name, m, best) : best + 1;
      if (d <= best && (!near || d < best)) near = name, best = d;
      lua_pop(L, 1);
    }
  }
  luaL_where(L, 2); /* the Lua code that reads the field */
  if (near)
    lua_pushfstring(L, "no field %s on a tensor; did you mean %s?", key, near);
  else
    lua_pushfstring(L, "no field %s on a tensor", key);
  lua_concat(L, 2);
  return lua_error(L);
}

/* Methods first (upvalue 1), then fields through getters (upvalue 2), then x[i]; any other
   name is an error (a typo must not read as nil). */
static int l_index(lua_State *L) {
  switch (lua_type(L, 2)) {
  case LUA_TSTRING:
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(2)) == LUA_TNIL) return unknown_field(L);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    return 1;
  case LUA_TNUMBER: return index_element(L);
  default: return lnn_argerror(L, 2, "an integer index or a field name");
  }
}

/* x[i] = v: fills (a number) or copies into (a tensor) the slice i along dim 1. */
static int newindex_element(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  if (t->ndim == 0)
    return lnn_errorf(L, "a 0-dim tensor has no elements to index (use x:fill_(v))");
  int64_t i = lnn_checkindex(L, 2, t->shape[0], 0);
  if (!lnn_test(L, 3) && lua_type(L, 3) != LUA_TNUMBER)
    return lnn_argerror(L, 3, "a number or a tensor");
  lnn_check_inplace(L, t, lnn_test(L, 3));
  /* a number that the dtype cannot hold is refused, as by fill_ and nn.full (u8 256, i64 nan) */
  if (lua_type(L, 3) == LUA_TNUMBER && !(t->dtype == NN_I64 && lua_isinteger(L, 3)) &&
      nn_check_fits(t->dtype, lua_tonumber(L, 3)) < 0)
    return lnn_error(L, NULL);
  nn_tensor *src = lnn_totensor(L, 3, t), *slot = nn_select(t, 0, i);
  int rc = slot ? nn_copy_(slot, src) : -1;
  nn_release(slot);
  nn_release(src);
  return rc < 0 ? lnn_error(L, NULL) : 0;
}

static int l_newindex(lua_State *L) {
  switch (lua_type(L, 2)) {
  case LUA_TSTRING:
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) == LUA_TNIL)
      return lnn_errorf(L, "cannot set field '%s' of a tensor", lua_tostring(L, 2));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 3);
    lua_call(L, 2, 0);
    return 0;
  case LUA_TNUMBER: return newindex_element(L);
  default: return lnn_argerror(L, 2, "an integer index or a field name");
  }
}

static int l_len(lua_State *L) {
  nn_tensor *t = lnn_check(L, 1);
  if (t->ndim == 0) return lnn_errorf(L, "a 0-dim tensor has no length");
  lua_pushinteger(L, t->shape[0]);
  return 1;
}

static int l_tostring(lua_State *L) {
  box *b = tobox(L, 1);
  if (!b || !b->t) {
    lua_pushstring(L, "tensor (closed)");
    return 1;
  }
  nn_format_opts o = {0};
  if (b->t->grad_fn)
    o.suffix = lua_pushfstring(L, "grad_fn=<%s>", lnn_push_grad_fn_name(L, b->t));
  else if (b->t->requires_grad)
    o.suffix = "requires_grad=true";
  char *s = nn_format(b->t, &o);
  if (!s) return luaL_error(L, "tostring: out of memory");
  lua_pushstring(L, s);
  free(s);
  return 1;
}

/* ---- the metatable ---- */

static void new_table_in_registry(lua_State *L, const char *key) {
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, key);
}

static void set_method(lua_State *L, const char *name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_setfield(L, -2, name);
}

/* Creates the metatable once per state; a second luaopen_nn finds it in place. */
void lnn_open_tensor(lua_State *L) {
  if (!luaL_newmetatable(L, "nn.Tensor")) {
    lua_pop(L, 1);
    return;
  }
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &MT_KEY);
  set_method(L, "__gc", l_gc);
  set_method(L, "__close", l_gc);
  set_method(L, "__len", l_len);
  set_method(L, "__tostring", l_tostring);
  new_table_in_registry(L, "nn.methods");
  new_table_in_registry(L, "nn.getters");
  lua_pushcclosure(L, l_index, 2);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "__index");
  lnn_name_function(L, -1, "x[i]");
  lua_pop(L, 1);
  new_table_in_registry(L, "nn.setters");
  lua_pushcclosure(L, l_newindex, 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "__newindex");
  lnn_name_function(L, -1, "x[i] = v");
  lua_pop(L, 2);
}
