/*
** dist/ldist.c: luaopen_dist, the C half of nn.dist (build/dist.so, loaded on first use by
** stdlib/nn/dist.lua, which documents it and adds DataParallel).
**
** dist.so is not linked with the nn core: it reads tensors through the nn binding's C API
** (nn/lua/lnn_capi.h) and writes their elements in place. A tensor that is not contiguous
** goes through a contiguous copy (a userdata, freed by the GC even after an error). Before
** every blocking collective the ranks compare their calls (comm_check): different shapes,
** dtypes, ops or calls are an error on every rank, not a hang or a wrong answer.
*/
#include <stdarg.h>
#include <string.h>

#include <lauxlib.h>

#include "dist/comm.h"
#include "nn/lua/lnn_capi.h"

/* Raises the message as it is (the traceback shows where). */
static int dist_error(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return lua_error(L);
}

static nn_tensor *check_tensor(lua_State *L, int idx, const char *fname) {
  lua_getfield(L, LUA_REGISTRYINDEX, LNN_CAPI_KEY);
  const lnn_capi *api = lua_touserdata(L, -1);
  lua_pop(L, 1);
  nn_tensor *t = api && api->version >= 1 ? api->test(L, idx) : NULL;
  if (!t)
    dist_error(L, "%s: argument %d must be a tensor, got %s", fname, idx, luaL_typename(L, idx));
  return t;
}

static int mpi_fail(lua_State *L) {
  return dist_error(L, "%s", comm_errmsg());
}

static void ensure_init(lua_State *L) {
  if (comm_init(0) < 0) mpi_fail(L);
}

/* ---- contiguous copies ---- */

/* Copies between t's elements and a contiguous buffer, row-major: out of t when to_buf. A
   contiguous t is one memcpy; otherwise rows of the last dimension, one memcpy per row
   when its elements are adjacent. */
static void copy_strided(const nn_tensor *t, char *buf, int to_buf) {
  size_t es = nn_dtype_size(t->dtype);
  int64_t n = nn_numel(t), idx[NN_MAXDIM] = {0};
  char *base = nn_data(t);
  if (n == 0) return;
  if (nn_is_contiguous(t) || t->ndim == 0) {
    memcpy(to_buf ? buf : base, to_buf ? base : buf, (size_t)n * es);
    return;
  }
  int last = t->ndim - 1;
  int64_t len = t->shape[last], step = t->stride[last] * (int64_t)es;
  size_t row = (size_t)len * es;
  for (int64_t i = 0; i < n; i += len, buf += row) {
    int64_t off = 0;
    for (int d = 0; d < last; d++) off += idx[d] * t->stride[d];
    char *el = base + off * (int64_t)es;
    if (step == (int64_t)es)
      memcpy(to_buf ? buf : el, to_buf ? el : buf, row);
    else
      for (int64_t j = 0; j < len; j++, el += step)
        memcpy(to_buf ? buf + j * (int64_t)es : el, to_buf ? el : buf + j * (int64_t)es, es);
    for (int d = last - 1; d >= 0 && ++idx[d] == t->shape[d]; d--) idx[d] = 0;
  }
}

/* The tensor's elements as a contiguous buffer: its own memory, or a copy (pushed on the
   stack, kept there until the call is done). writable: the result goes back into t. */
static char *buffer_of(lua_State *L, nn_tensor *t, const char *fname, int writable) {
  if (nn_is_contiguous(t)) return nn_data(t);
  for (int d = 0; writable && d < t->ndim; d++)
    if (t->stride[d] == 0 && t->shape[d] > 1)
      dist_error(L,
                 "%s: the tensor is expanded (dimension %d has stride 0): its elements "
                 "share memory; pass t:contiguous()",
                 fname, d + 1);
  size_t nbytes = (size_t)nn_numel(t) * nn_dtype_size(t->dtype);
  char *buf = lua_newuserdatauv(L, nbytes ? nbytes : 1, 0);
  copy_strided(t, buf, 1);
  return buf;
}

static void write_back(nn_tensor *t, char *buf) {
  if (buf != nn_data(t)) copy_strided(t, buf, 0);
}

static void signature(comm_sig *s, int call, int arg, const nn_tensor *t) {
  memset(s, 0, sizeof *s);
  s->call = call, s->arg = arg;
  if (!t) return;
  s->dtype = (int32_t)t->dtype, s->ndim = t->ndim;
  for (int d = 0; d < t->ndim && d < 8; d++) s->shape[d] = t->shape[d];
}

/* ---- functions ---- */

static int l_init(lua_State *L) {
  double timeout = luaL_optnumber(L, 1, 0);
  if (comm_init(timeout) < 0) return mpi_fail(L);
  lua_pushinteger(L, comm_rank() + 1);
  lua_pushinteger(L, comm_size());
  return 2;
}

static int l_rank(lua_State *L) {
  ensure_init(L);
  lua_pushinteger(L, comm_rank() + 1);
  return 1;
}

static int l_size(lua_State *L) {
  ensure_init(L);
  lua_pushinteger(L, comm_size());
  return 1;
}

static int l_allreduce(lua_State *L) {
  static const char *const ops[] = {"sum", "mean", "max", NULL};
  const char *fname = "nn.dist.allreduce";
  nn_tensor *t = check_tensor(L, 1, fname);
  int op = luaL_checkoption(L, 2, "sum", ops);
  ensure_init(L);
  if (op == COMM_MEAN && !nn_dtype_is_float(t->dtype))
    return dist_error(L, "%s: mean needs an f32 or f64 tensor (sum an integer one)", fname);
  comm_sig s;
  signature(&s, CALL_ALLREDUCE, op, t);
  if (comm_check(fname, &s) < 0) return mpi_fail(L);
  char *buf = buffer_of(L, t, fname, 1);
  if (comm_allreduce(fname, buf, nn_numel(t), (int)t->dtype, op) < 0) return mpi_fail(L);
  write_back(t, buf);
  lua_settop(L, 1);
  return 1;
}

static int l_broadcast(lua_State *L) {
  const char *fname = "nn.dist.broadcast";
  nn_tensor *t = check_tensor(L, 1, fname);
  lua_Integer root = luaL_optinteger(L, 2, 1);
  ensure_init(L);
  if (root < 1 || root > comm_size())
    return dist_error(L, "%s: root must be a rank from 1 to %d, got %d", fname, comm_size(),
                      (int)root);
  comm_sig s;
  signature(&s, CALL_BROADCAST, (int)root - 1, t);
  if (comm_check(fname, &s) < 0) return mpi_fail(L);
  char *buf = buffer_of(L, t, fname, 1);
  if (comm_broadcast(fname, buf, nn_numel(t), (int)t->dtype, (int)root - 1) < 0) return mpi_fail(L);
  write_back(t, buf);
  lua_settop(L, 1);
  return 1;
}

static int l_barrier(lua_State *L) {
  ensure_init(L);
  comm_sig s;
  signature(&s, CALL_BARRIER, 0, NULL);
  if (comm_check("nn.dist.barrier", &s) < 0 || comm_barrier("nn.dist.barrier") < 0)
    return mpi_fail(L);
  return 0;
}

/* allgather(t, out): out (contiguous, size * numel(t) elements of t's dtype) made by the
   Lua half */
static int l_allgather(lua_State *L) {
  const char *fname = "nn.dist.allgather";
  nn_tensor *t = check_tensor(L, 1, fname), *out = check_tensor(L, 2, fname);
  ensure_init(L);
  if (!nn_is_contiguous(out) || out->dtype != t->dtype ||
      nn_numel(out) != nn_numel(t) * comm_size())
    return dist_error(L, "%s: the output must be a contiguous tensor of %d x %d elements", fname,
                      comm_size(), (int)nn_numel(t));
  comm_sig s;
  signature(&s, CALL_ALLGATHER, 0, t);
  if (comm_check(fname, &s) < 0) return mpi_fail(L);
  char *buf = buffer_of(L, t, fname, 0);
  if (comm_size() == 1) {
    memcpy(nn_data(out), buf, (size_t)nn_numel(t) * nn_dtype_size(t->dtype));
  } else if (comm_allgather(fname, buf, nn_data(out), nn_numel(t), (int)t->dtype) < 0) {
    return mpi_fail(L);
  }
  lua_settop(L, 2);
  return 1;
}

/* iallreduce(t) -> handle: starts the sum of a contiguous float tensor; the caller keeps t
   alive until wait */
static int l_iallreduce(lua_State *L) {
  const char *fname = "nn.dist.DataParallel";
  nn_tensor *t = check_tensor(L, 1, fname);
  ensure_init(L);
  if (!nn_is_contiguous(t) || !nn_dtype_is_float(t->dtype))
    return dist_error(L, "%s: buckets are contiguous f32 or f64 tensors", fname);
  int h = comm_iallreduce(fname, nn_data(t), nn_numel(t), (int)t->dtype);
  if (h < 0) return mpi_fail(L);
  lua_pushinteger(L, h);
  return 1;
}

/* dst = src * k on n contiguous floats of dtype type (f32 or f64); k = 1 copies */
static void copy_scaled(char *dst, const char *src, int64_t n, nn_dtype type, double k) {
  if (k == 1) {
    memcpy(dst, src, (size_t)n * nn_dtype_size(type));
  } else if (type == NN_F32) {
    float *d = (float *)dst, kf = (float)k;
    const float *x = (const float *)src;
    for (int64_t i = 0; i < n; i++) d[i] = x[i] * kf;
  } else {
    double *d = (double *)dst;
    const double *x = (const double *)src;
    for (int64_t i = 0; i < n; i++) d[i] = x[i] * k;
  }
}

/* pack(dst, src [, k = 1]): src's elements times k into the contiguous dst of as many (same
   float dtype); only the scaling when they are the same memory (a .grad that is already
   its bucket's view) */
static int l_pack(lua_State *L) {
  const char *fname = "nn.dist.DataParallel";
  nn_tensor *dst = check_tensor(L, 1, fname), *src = check_tensor(L, 2, fname);
  double k = luaL_optnumber(L, 3, 1);
  if (!nn_is_contiguous(dst) || dst->dtype != src->dtype || nn_numel(dst) != nn_numel(src) ||
      !nn_dtype_is_float(dst->dtype))
    return dist_error(L, "%s: a gradient does not fit its bucket", fname);
  int64_t n = nn_numel(dst);
  if (!nn_is_contiguous(src)) {
    copy_strided(src, nn_data(dst), 1);
    if (k != 1) copy_scaled(nn_data(dst), nn_data(dst), n, dst->dtype, k);
  } else if (nn_data(dst) != nn_data(src) || k != 1) {
    copy_scaled(nn_data(dst), nn_data(src), n, dst->dtype, k);
  }
  return 0;
}

/* sum_now(t [, k = 1]): the blocking sum over the ranks of a contiguous float tensor, in
   place, times k (the last gradient bucket) */
static int l_sum_now(lua_State *L) {
  const char *fname = "nn.dist.DataParallel";
  nn_tensor *t = check_tensor(L, 1, fname);
  double k = luaL_optnumber(L, 2, 1);
  ensure_init(L);
  if (!nn_is_contiguous(t) || !nn_dtype_is_float(t->dtype))
    return dist_error(L, "%s: buckets are contiguous f32 or f64 tensors", fname);
  if (comm_sum_now("nn.dist.DataParallel (the allreduce of the last gradient bucket)", nn_data(t),
                   nn_numel(t), (int)t->dtype, k) < 0)
    return mpi_fail(L);
  return 0;
}

static int l_progress(lua_State *L) {
  if (comm_progress() < 0) return mpi_fail(L);
  return 0;
}

static int l_wait(lua_State *L) {
  int h = (int)luaL_checkinteger(L, 1);
  double scale = luaL_optnumber(L, 2, 1);
  if (comm_wait("nn.dist.DataParallel (the allreduce of a gradient bucket)", h, scale) < 0)
    return mpi_fail(L);
  return 0;
}

/* stats() -> seconds blocked in collectives, number of collectives */
static int l_stats(lua_State *L) {
  lua_pushnumber(L, comm_wait_seconds());
  lua_pushinteger(L, (lua_Integer)comm_calls());
  return 2;
}

static int l_set_timeout(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  if (s <= 0) return dist_error(L, "nn.dist.init: timeout must be > 0 seconds, got %f", s);
  comm_set_timeout(s);
  return 0;
}

static int l_active(lua_State *L) {
  lua_pushboolean(L, comm_active());
  return 1;
}

static const luaL_Reg functions[] = {
    {"init", l_init},           {"rank", l_rank},
    {"size", l_size},           {"allreduce", l_allreduce},
    {"broadcast", l_broadcast}, {"barrier", l_barrier},
    {"allgather", l_allgather}, {"iallreduce", l_iallreduce},
    {"progress", l_progress},   {"wait", l_wait},
    {"stats", l_stats},         {"set_timeout", l_set_timeout},
    {"active", l_active},       {"pack", l_pack},
    {"sum_now", l_sum_now},     {NULL, NULL},
};

int luaopen_dist(lua_State *L) {
  luaL_newlib(L, functions);
  return 1;
}
