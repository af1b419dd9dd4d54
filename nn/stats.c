/*
** nn/stats.c: counting zeros, active units and activation patterns (nn/stats.h).
**
** Each kernel is written once, as a macro over the element type, and dispatched on dtype
** through one table. Activations are read row by row (one row per sample), so strided
** inputs are made contiguous first; the zero count walks any strides through nn_iter.
*/
#include <math.h>
#include <string.h>

#include "nn/alloc.h"
#include "nn/iter.h"
#include "nn/stats.h"

/* ---- hashing ---- */

/* MurmurHash3's 64-bit finalizer: a bijection that spreads every input bit over the word. */
static inline uint64_t mix64(uint64_t z) {
  z ^= z >> 33;
  z *= 0xff51afd7ed558ccdULL;
  z ^= z >> 33;
  z *= 0xc4ceb9fe1a85ec53ULL;
  z ^= z >> 33;
  return z;
}

enum { WORD_BITS = 64 };
static const uint64_t HASH_SEED = 0x9e3779b97f4a7c15ULL; /* the golden ratio, in 64 bits */

/* One more 64-unit word of signs into a running pattern hash. The added constant keeps
   runs of all-zero words from hashing to 0 (mix64(0) is 0). */
static inline uint64_t fold(uint64_t h, uint64_t word) {
  return mix64(h ^ word) + HASH_SEED;
}

/* ---- per-dtype kernels ---- */

typedef struct kernels {
  /* zeros among n elements step bytes apart (an nn_rowfn; ctx: int64_t count) */
  nn_rowfn zeros;
  /* a[j] |= x[i][j][s] > 0 for some s, over rows x units x S, contiguous */
  void (*active)(uint8_t *a, const char *x, int64_t rows, int64_t units, int64_t S);
  /* h[i] = fold of the sign words of row i, for rows x units, contiguous */
  void (*hash)(uint64_t *h, const char *x, int64_t rows, int64_t units);
  /* the units whose sign differs between rows a and b of units contiguous values */
  int64_t (*flips)(const char *a, const char *b, int64_t units);
} kernels;

#define KERNELS(D, T)                                                                              \
  static void zeros_##D(char **p, const int64_t *step, int64_t n, void *ctx) {                     \
    int64_t count = 0;                                                                             \
    if (step[0] == (int64_t)sizeof(T)) {                                                           \
      const T *x = (const T *)p[0];                                                                \
      for (int64_t i = 0; i < n; i++) count += x[i] == 0;                                          \
    } else {                                                                                       \
      for (int64_t i = 0; i < n; i++) count += *(const T *)(p[0] + i * step[0]) == 0;              \
    }                                                                                              \
    *(int64_t *)ctx += count;                                                                      \
  }                                                                                                \
  static void active_##D(uint8_t *a, const char *x, int64_t rows, int64_t units, int64_t S) {      \
    const T *r = (const T *)x;                                                                     \
    if (S == 1) {                                                                                  \
      for (int64_t i = 0; i < rows; i++, r += units)                                               \
        for (int64_t j = 0; j < units; j++) a[j] |= r[j] > 0;                                      \
      return;                                                                                      \
    }                                                                                              \
    for (int64_t i = 0; i < rows; i++)                                                             \
      for (int64_t j = 0; j < units; j++, r += S) {                                                \
        uint8_t any = 0;                                                                           \
        for (int64_t s = 0; s < S; s++) any |= r[s] > 0;                                           \
        a[j] |= any;                                                                               \
      }                                                                                            \
  }                                                                                                \
  static void hash_##D(uint64_t *h, const char *x, int64_t rows, int64_t units) {                  \
    const T *r = (const T *)x;                                                                     \
    for (int64_t i = 0; i < rows; i++, r += units) {                                               \
      uint64_t hv = h[i];                                                                          \
      for (int64_t j0 = 0; j0 < units; j0 += WORD_BITS) {                                          \
        int64_t m = units - j0 < WORD_BITS ? units - j0 : WORD_BITS;                               \
        uint64_t word = 0;                                                                         \
        for (int64_t k = 0; k < m; k++) word |= (uint64_t)(r[j0 + k] > 0) << k;                    \
        hv = fold(hv, word);                                                                       \
      }                                                                                            \
      h[i] = hv;                                                                                   \
    }                                                                                              \
  }                                                                                                \
  static int64_t flips_##D(const char *a, const char *b, int64_t units) {                          \
    const T *x = (const T *)a, *y = (const T *)b;                                                  \
    int64_t count = 0;                                                                             \
    for (int64_t j = 0; j < units; j++) count += (x[j] > 0) != (y[j] > 0);                         \
    return count;                                                                                  \
  }

#define TYPES(M) M(F32, float) M(F64, double) M(I64, int64_t) M(U8, uint8_t)
TYPES(KERNELS)
#define SLOT(D, T) [NN_##D] = {zeros_##D, active_##D, hash_##D, flips_##D},
static const kernels kern[NN_NDTYPES] = {TYPES(SLOT)};

/* ---- zeros, samples, units ---- */

int64_t nn_stats_count_zeros(const nn_tensor *t) {
  nn_iter it;
  if (nn_iter_init(&it, 1, &t) < 0) return -1;
  int64_t count = 0;
  nn_iter_run(&it, kern[t->dtype].zeros, &count);
  return count;
}

int64_t nn_stats_samples(const nn_tensor *h) {
  return h->ndim < 2 ? 1 : h->shape[0];
}

int64_t nn_stats_units(const nn_tensor *h) {
  int64_t units = 1;
  for (int d = h->ndim < 2 ? 0 : 1; d < h->ndim; d++) units *= h->shape[d];
  return units;
}

/* ---- ever-active units ---- */

int64_t nn_stats_active_units(const nn_tensor *h) {
  return h->ndim >= 4 ? h->shape[1] : nn_stats_units(h);
}

int nn_stats_active_(nn_tensor *active, const nn_tensor *h) {
  int64_t units = nn_stats_active_units(h);
  if (active->dtype != NN_U8 || !nn_is_contiguous(active))
    return nn_errc("the mask of active units must be a contiguous u8 tensor, got %s",
                   nn_dtype_name(active->dtype));
  if (nn_numel(active) != units)
    return nn_errc("the mask has %lld elements but the activations of shape %s have %lld units",
                   (long long)nn_numel(active), nn_shape_str(h), (long long)units);
  nn_tensor *c = nn_contiguous((nn_tensor *)h);
  if (!c) return -1;
  int64_t S = units ? nn_stats_units(c) / units : 1; /* positions per channel */
  kern[c->dtype].active((uint8_t *)nn_data(active), nn_data(c), nn_stats_samples(c), units,
                        S ? S : 1);
  nn_release(c);
  return 0;
}

nn_tensor *nn_stats_active(const nn_tensor *h) {
  int64_t units = nn_stats_active_units(h);
  nn_tensor *active = nn_zeros(NN_U8, 1, &units);
  if (active && nn_stats_active_(active, h) < 0) {
    nn_release(active);
    return NULL;
  }
  return active;
}

int64_t nn_stats_dead_count(const nn_tensor *h) {
  nn_tensor *active = nn_stats_active(h);
  if (!active) return -1;
  int64_t dead = nn_stats_count_zeros(active);
  nn_release(active);
  return dead;
}

/* ---- activation patterns ---- */

/* Every layer holds the same number of samples as the first. */
static int check_layers(nn_tensor *const *hs, int n) {
  if (n < 1) return nn_errc("no activations given (a network with no ReLU layers?)");
  int64_t samples = nn_stats_samples(hs[0]);
  for (int l = 1; l < n; l++)
    if (nn_stats_samples(hs[l]) != samples)
      return nn_errc("layer %d has %lld samples (shape %s) but layer 1 has %lld (shape %s)", l + 1,
                     (long long)nn_stats_samples(hs[l]), nn_shape_str(hs[l]), (long long)samples,
                     nn_shape_str(hs[0]));
  return 0;
}

nn_tensor *nn_stats_pattern_ids(nn_tensor *const *hs, int n) {
  if (check_layers(hs, n) < 0) return NULL;
  int64_t samples = nn_stats_samples(hs[0]);
  nn_tensor *ids = nn_empty(NN_I64, 1, &samples);
  if (!ids) return NULL;
  uint64_t *h = (uint64_t *)nn_data(ids);
  for (int64_t i = 0; i < samples; i++) h[i] = HASH_SEED;
  for (int l = 0; l < n; l++) {
    nn_tensor *c = nn_contiguous(hs[l]);
    if (!c) {
      nn_release(ids);
      return NULL;
    }
    kern[c->dtype].hash(h, nn_data(c), samples, nn_stats_units(c));
    nn_release(c);
  }
  for (int64_t i = 0; i < samples; i++) h[i] = mix64(h[i]); /* the last word mixed in too */
  return ids;
}

int64_t nn_stats_flips(nn_tensor *const *hs, int n, bool closed) {
  if (check_layers(hs, n) < 0) return -1;
  int64_t samples = nn_stats_samples(hs[0]), flips = 0;
  for (int l = 0; l < n; l++) {
    nn_tensor *c = nn_contiguous(hs[l]);
    if (!c) return -1;
    const kernels *k = &kern[c->dtype];
    int64_t units = nn_stats_units(c), row = units * (int64_t)nn_dtype_size(c->dtype);
    const char *x = nn_data(c);
    for (int64_t i = 1; i < samples; i++) flips += k->flips(x + (i - 1) * row, x + i * row, units);
    if (closed && samples > 1) flips += k->flips(x + (samples - 1) * row, x, units);
    nn_release(c);
  }
  return flips;
}

/* ---- id sequences ---- */

/* ids as a contiguous 1-D i64 tensor (a new reference), or NULL with a message. */
static nn_tensor *id_vector(nn_tensor *ids) {
  if (ids->ndim != 1) return nn_err("ids must be a 1-D tensor, got shape %s", nn_shape_str(ids));
  if (nn_dtype_is_float(ids->dtype))
    return nn_err("ids must be an integer tensor (i64), got %s", nn_dtype_name(ids->dtype));
  nn_tensor *i64 = nn_to(ids, NN_I64);
  nn_tensor *c = i64 ? nn_contiguous(i64) : NULL;
  nn_release(i64);
  return c;
}

/* An open-addressing set of ids, each with the rank of its first appearance. */
typedef struct idset {
  uint64_t *keys;
  int64_t *rank; /* -1: an empty slot */
  size_t cap;    /* a power of two, at least twice the ids to hold */
  int64_t count;
} idset;

static int idset_init(idset *s, int64_t n) {
  s->cap = 16;
  while (s->cap < 2 * (size_t)n) s->cap *= 2;
  s->keys = nn_alloc(s->cap * sizeof *s->keys);
  s->rank = nn_alloc(s->cap * sizeof *s->rank);
  s->count = 0;
  if (!s->keys || !s->rank) {
    nn_free(s->keys, s->cap * sizeof *s->keys);
    nn_free(s->rank, s->cap * sizeof *s->rank);
    return nn_errc("out of memory for a set of %lld ids", (long long)n);
  }
  memset(s->rank, 0xff, s->cap * sizeof *s->rank);
  return 0;
}

static void idset_free(idset *s) {
  nn_free(s->keys, s->cap * sizeof *s->keys);
  nn_free(s->rank, s->cap * sizeof *s->rank);
}

/* The rank of key, inserted with the next rank when new. Keys are mixed again so that
   small or sequential ids (not only hashes) spread over the table. */
static int64_t idset_add(idset *s, uint64_t key) {
  size_t mask = s->cap - 1, slot = (size_t)mix64(key) & mask;
  while (s->rank[slot] >= 0 && s->keys[slot] != key) slot = (slot + 1) & mask;
  if (s->rank[slot] < 0) {
    s->keys[slot] = key;
    s->rank[slot] = s->count++;
  }
  return s->rank[slot];
}

int64_t nn_stats_distinct(const nn_tensor *ids, nn_tensor **labels) {
  if (labels) *labels = NULL;
  nn_tensor *v = id_vector((nn_tensor *)ids);
  if (!v) return -1;
  int64_t n = v->shape[0];
  nn_tensor *lab = labels ? nn_empty(NN_I64, 1, &n) : NULL;
  idset s;
  if ((labels && !lab) || idset_init(&s, n) < 0) {
    nn_release(v);
    nn_release(lab);
    return -1;
  }
  const int64_t *x = (const int64_t *)nn_data(v);
  int64_t *out = lab ? (int64_t *)nn_data(lab) : NULL;
  for (int64_t i = 0; i < n; i++) {
    int64_t r = idset_add(&s, (uint64_t)x[i]);
    if (out) out[i] = r;
  }
  idset_free(&s);
  nn_release(v);
  if (labels) *labels = lab;
  return s.count;
}

int64_t nn_stats_changes(const nn_tensor *ids, bool closed) {
  nn_tensor *v = id_vector((nn_tensor *)ids);
  if (!v) return -1;
  int64_t n = v->shape[0], changes = 0;
  const int64_t *x = (const int64_t *)nn_data(v);
  for (int64_t i = 1; i < n; i++) changes += x[i] != x[i - 1];
  if (closed && n > 1) changes += x[n - 1] != x[0];
  nn_release(v);
  return changes;
}

/* ---- path length ---- */

static double distance(const double *a, const double *b, int64_t d) {
  double s = 0;
  for (int64_t k = 0; k < d; k++) s += (a[k] - b[k]) * (a[k] - b[k]);
  return sqrt(s);
}

double nn_stats_path_length(const nn_tensor *pts, bool closed) {
  if (pts->ndim < 1) {
    nn_errc("the path must have a dim of points, got a 0-dim tensor");
    return -1;
  }
  nn_tensor *f = nn_to((nn_tensor *)pts, NN_F64);
  nn_tensor *c = f ? nn_contiguous(f) : NULL;
  nn_release(f);
  if (!c) return -1;
  int64_t n = c->shape[0], d = n > 0 ? nn_numel(c) / n : 0;
  const double *x = (const double *)nn_data(c);
  double length = 0;
  for (int64_t i = 1; i < n; i++) length += distance(x + (i - 1) * d, x + i * d, d);
  if (closed && n > 1) length += distance(x + (n - 1) * d, x, d);
  nn_release(c);
  return length;
}
