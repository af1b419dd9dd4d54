/*
** nn/ops/sort.c: sort and topk, two outputs each: the values and their 0-based i64 indices
** along the dim.
**
** Each lane is sorted stably (insertion for short lanes, else a least-significant-digit radix
** sort of keys made from the values read as doubles, -0 equal to +0); NaN counts as larger
** than every number (last ascending, first descending), as in PyTorch. topk is the first k
** of the stable sort, largest or smallest first. The lanes are shared among the threads.
** Attributes: i[0] dim, i[1] descending, i[2] k (-1: the whole dim).
**
** The values are the input gathered at the indices, so the VJP scatters the values'
** gradient back to the positions it came from and the JVP gathers the tangent; the indices
** are constants. The forward saves an alias of the indices for both.
*/
#include <string.h>

#include "nn/alloc.h"
#include "nn/ops.h"
#include "nn/ops/along.h"
#include "nn/pool.h"

/* a lane's element: its value, read as a double (or, inside radix_sort, its key), and its
   position */
typedef struct keyed {
  union {
    double v;
    uint64_t key;
  };
  int64_t at;
} keyed;

/* a strictly before b (values that are not nan): ties keep their order, so the sort is stable */
static inline bool before(const keyed *a, const keyed *b, bool desc) {
  return desc ? a->v > b->v : a->v < b->v;
}

/* e[0..n) sorted stably by insertion: for lanes of up to SHORT_LANE */
enum { SHORT_LANE = 48 };
static void insertion_sort(keyed *e, int64_t n, bool desc) {
  for (int64_t i = 1; i < n; i++) {
    keyed k = e[i];
    int64_t j = i;
    for (; j > 0 && before(&k, &e[j - 1], desc); j--) e[j] = e[j - 1];
    e[j] = k;
  }
}

/* An unsigned key ordered as the values (descending: reversed), -0 equal to +0. */
static inline uint64_t order_key(double v, bool desc) {
  if (v == 0) v = 0;
  uint64_t b;
  memcpy(&b, &v, sizeof b);
  b = b >> 63 ? ~b : b | (uint64_t)1 << 63;
  return desc ? ~b : b;
}

/* e[0..n) sorted stably by a least-significant-digit radix sort of the keys, a byte a pass
   through tmp (n more); a byte that every key shares (the low ones of values that were f32)
   costs no pass. The values become their keys: only the positions are read after. */
static void radix_sort(keyed *e, keyed *tmp, int64_t n, bool desc) {
  int64_t count[8][256] = {{0}};
  for (int64_t i = 0; i < n; i++) {
    uint64_t k = e[i].key = order_key(e[i].v, desc);
    for (int b = 0; b < 8; b++) count[b][k >> 8 * b & 255]++;
  }
  keyed *src = e, *dst = tmp;
  for (int b = 0; b < 8; b++) {
    int64_t *c = count[b], sum = 0;
    if (c[src[0].key >> 8 * b & 255] == n) continue;
    for (int d = 0; d < 256; d++) {
      int64_t t = c[d];
      c[d] = sum, sum += t;
    }
    for (int64_t i = 0; i < n; i++) dst[c[src[i].key >> 8 * b & 255]++] = src[i];
    keyed *t = src;
    src = dst, dst = t;
  }
  if (src != e) memcpy(e, src, (size_t)n * sizeof *e);
}

/* the first k of e[0..n) in order, for k much smaller than n: a sorted window of k kept by
   insertion (a later equal value never displaces an earlier one: stable). Returns k. */
static int64_t select_first(keyed *e, int64_t n, int64_t k, bool desc) {
  int64_t m = 0; /* e[0..m) is the window */
  for (int64_t i = 0; i < n; i++) {
    keyed x = e[i];
    if (m == k && !before(&x, &e[m - 1], desc)) continue;
    int64_t j = m < k ? m++ : m - 1;
    for (; j > 0 && before(&x, &e[j - 1], desc); j--) e[j] = e[j - 1];
    e[j] = x;
  }
  return m;
}

/* Orders one lane of n values (in e, positions 0..n-1) and leaves the first k in e: nan is
   the largest, so the nans (when the lane has any: nans) go last ascending and first
   descending, in their order. */
static void order_lane(keyed *e, keyed *tmp, int64_t n, int64_t k, bool desc, bool nans) {
  int64_t m = n, nn = 0;
  if (nans) { /* numbers to the front, nans to tmp, both in order */
    m = 0;
    for (int64_t i = 0; i < n; i++)
      if (e[i].v == e[i].v)
        e[m++] = e[i];
      else
        tmp[nn++] = e[i];
  }
  if (desc && nn) { /* nans first: shift the numbers behind them */
    memmove(e + nn, e, (size_t)m * sizeof *e);
    memcpy(e, tmp, (size_t)nn * sizeof *e);
    if (k <= nn) return;
    e += nn, k -= nn;
  } else if (nn) {
    memcpy(e + m, tmp, (size_t)nn * sizeof *e);
  }
  if (k > 0 && k * 16 < m && k <= 64)
    select_first(e, m, k, desc);
  else if (m <= SHORT_LANE)
    insertion_sort(e, m, desc);
  else
    radix_sort(e, tmp, m, desc);
}

static int check_sort(const nn_op *op, const nn_tensor *x, const nn_attr *a) {
  if (along_check_dim(x, a->i[0]) < 0) return -1;
  int64_t n = x->ndim ? x->shape[a->i[0]] : 1, k = a->i[2];
  if (k > n || k < -1)
    return nn_errc("k %lld is out of range for dimension %lld of size %lld (shape %s)",
                   (long long)k, (long long)a->i[0] + 1, (long long)n, nn_shape_str(x));
  (void)op;
  return 0;
}

/* The lanes go to the threads in up to PIECES pieces (of at least PIECE_MIN elements), each
   with its scratch allocated here (the allocator is the calling thread's); a lane's result
   does not depend on which thread sorted it. */
enum { PIECES = 8, PIECE_MIN = 1 << 14 };
typedef struct sort_job {
  const char *x;
  char *v;
  int64_t *ix;
  nn_dtype dt;
  along l;
  int64_t k, lanes, npieces;
  bool desc;
  keyed *scratch; /* 2 n per piece */
} sort_job;

/* the k first of lane o * inner + i, sorted, into values and indices */
static void sort_lane(const sort_job *j, int64_t lane, keyed *e) {
  along l = j->l;
  size_t es = nn_dtype_size(j->dt);
  int64_t o = lane / l.inner, i = lane % l.inner, base = o * l.n * l.inner + i;
  bool nans = false;
#define LOAD_LANE(T)                                                                               \
  for (int64_t r = 0; r < l.n; r++) {                                                              \
    double v = (double)((const T *)j->x)[base + r * l.inner];                                      \
    e[r] = (keyed){.v = v, .at = r};                                                               \
    nans |= v != v;                                                                                \
  }
  switch (j->dt) {
  case NN_F32: LOAD_LANE(float) break;
  case NN_F64: LOAD_LANE(double) break;
  case NN_I64: LOAD_LANE(int64_t) break;
  default: LOAD_LANE(uint8_t) break;
  }
#undef LOAD_LANE
  order_lane(e, e + l.n, l.n, j->k, j->desc, nans);
  for (int64_t r = 0; r < j->k; r++) {
    int64_t at = (o * j->k + r) * l.inner + i;
    memcpy(j->v + at * es, j->x + ((o * l.n + e[r].at) * l.inner + i) * es, es);
    j->ix[at] = e[r].at;
  }
}

static void sort_pieces(int64_t lo, int64_t hi, void *arg) {
  const sort_job *j = arg;
  for (int64_t p = lo; p < hi; p++)
    for (int64_t lane = j->lanes * p / j->npieces; lane < j->lanes * (p + 1) / j->npieces; lane++)
      sort_lane(j, lane, j->scratch + 2 * j->l.n * p);
}

static int sort_lanes(const nn_tensor *xc, along l, int64_t k, bool desc, nn_tensor *vals,
                      nn_tensor *idx) {
  int64_t lanes = l.outer * l.inner;
  sort_job j = {.x = nn_data(xc),
                .v = nn_data(vals),
                .ix = (int64_t *)nn_data(idx),
                .dt = xc->dtype,
                .l = l,
                .k = k,
                .lanes = lanes,
                .desc = desc};
  j.npieces = nn_pieces(lanes * l.n, PIECE_MIN, PIECES, lanes);
  size_t nb = (size_t)j.npieces * 2 * (size_t)(l.n ? l.n : 1) * sizeof(keyed);
  if (!(j.scratch = nn_alloc(nb))) return nn_errc("out of memory in sort");
  nn_parallel(j.npieces, 1, sort_pieces, &j);
  nn_free(j.scratch, nb);
  return 0;
}

static int sort_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a, nn_tensor **out,
                        nn_tensor **saved, int *nsaved) {
  nn_tensor *x = in[0];
  if (check_sort(op, x, a) < 0) return -1;
  int d = (int)a->i[0];
  along l = along_dim(x, d);
  int64_t k = a->i[2] < 0 ? l.n : a->i[2], shape[NN_MAXDIM];
  memcpy(shape, x->shape, sizeof shape);
  if (x->ndim) shape[d] = k;
  nn_tensor *xc = nn_contiguous(x);
  out[0] = xc ? nn_empty(x->dtype, x->ndim, shape) : NULL;
  out[1] = out[0] ? nn_empty(NN_I64, x->ndim, shape) : NULL;
  if (!out[1] || sort_lanes(xc, l, k, a->i[1] != 0, out[0], out[1]) < 0) {
    nn_release(xc), nn_release(out[0]), nn_release(out[1]);
    out[0] = out[1] = NULL;
    return -1;
  }
  nn_release(xc);
  if (saved) saved[0] = nn_alias(out[1]), *nsaved = 1;
  return 0;
}

/* the values' gradient scattered back to where each value came from */
static int sort_vjp(const nn_ctx *c, nn_tensor *const *g, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  nn_tensor *x = c->in[0];
  nn_tensor *z = nn_zeros(x->dtype, x->ndim, x->shape);
  if (!z || !g[0] || x->ndim == 0) {
    gin[0] = z && g[0] ? nn_to(g[0], x->dtype) : z;
    if (z && g[0]) nn_release(z);
    return gin[0] ? 0 : -1;
  }
  nn_tensor *gc = nn_to(g[0], x->dtype);
  gin[0] = gc ? nn_scatter_add(z, (int)c->attr.i[0], c->saved[0], gc) : NULL;
  nn_release(gc), nn_release(z);
  return gin[0] ? 0 : -1;
}

static int sort_jvp(const nn_ctx *c, nn_tensor *const *tin, nn_tensor **tout) {
  if (!tin[0]) return 0;
  tout[0] =
      c->in[0]->ndim == 0 ? nn_clone(tin[0]) : nn_gather(tin[0], (int)c->attr.i[0], c->saved[0]);
  return tout[0] ? 0 : -1;
}

const nn_op nn_op_sort = {.name = "sort",
                          .nin = 1,
                          .nout = 2,
                          .forward_multi = sort_forward,
                          .vjp_multi = sort_vjp,
                          .jvp_multi = sort_jvp};
const nn_op nn_op_topk = {.name = "topk",
                          .nin = 1,
                          .nout = 2,
                          .forward_multi = sort_forward,
                          .vjp_multi = sort_vjp,
                          .jvp_multi = sort_jvp};

static nn_tensor *sorted(const nn_op *op, nn_tensor *x, int64_t k, int dim, bool desc,
                         nn_tensor **idx) {
  nn_attr a = {.i = {dim, desc, k}, .ni = 3};
  nn_tensor *out[2];
  if (nn_call_multi(op, 1, &x, &a, 2, out) < 0) {
    if (idx) *idx = NULL;
    return NULL;
  }
  if (idx)
    *idx = out[1];
  else
    nn_release(out[1]);
  return out[0];
}

nn_tensor *nn_sort(nn_tensor *x, int dim, bool descending, nn_tensor **idx) {
  return sorted(&nn_op_sort, x, -1, dim, descending, idx);
}

nn_tensor *nn_topk(nn_tensor *x, int64_t k, int dim, bool largest, nn_tensor **idx) {
  if (k < 0) {
    if (idx) *idx = NULL;
    return nn_err("k must not be negative (got %lld)", (long long)k);
  }
  return sorted(&nn_op_topk, x, k, dim, largest, idx);
}
