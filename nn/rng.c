/*
** nn/rng.c: relua's random numbers. One global generator whose numbers depend only on the
** seed: integer arithmetic for uniforms, integers and permutations (no libc rand, no
** floating-point library), so every machine draws the same values; normals add libm's log
** (sqrt is exact in IEEE arithmetic), which may differ in the last bit between libms.
**
** Generator: xoshiro256** (Blackman and Vigna, 2018) over 256 bits of state s[0..3]. Each
** draw returns rotl(s1 * 5, 7) * 9, then steps:
**   t = s1 << 17; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45)
** Seeding: s0..s3 are four successive outputs of splitmix64 started at the 64-bit seed x:
**   x += 0x9e3779b97f4a7c15; z = x; z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9;
**   z = (z ^ z >> 27) * 0x94d049bb133111eb; output z ^ z >> 31
** (splitmix64 is a bijection of its counter, so four successive outputs are never all zero,
** the one state xoshiro must avoid). A fresh process starts as if seeded with
** NN_DEFAULT_SEED, PyTorch's default seed, so a script without manual_seed is reproducible.
**
** Values from 64-bit draws x, in row-major logical order of the tensor filled:
**   uniform f32: (x >> 40) * 2^-24           uniform f64 (and nn_rand_uniform): (x >> 11) * 2^-53
**   integer in [0, span): draw until x >= 2^64 mod span, then x mod span (no modulo bias)
**   normals (Box-Muller in Marsaglia's polar form): u = 2 a - 1, v = 2 b - 1 from two f64
**     uniforms a, b, drawn again until 0 < s = u^2 + v^2 < 1; then f = sqrt(-2 log(s) / s),
**     z0 = u f, z1 = v f. A fill uses z0 then z1; nn_rand_normal returns z0 only.
**   randperm(n): p = 0..n-1; for i = n-1 down to 1: j = integer in [0, i+1), swap p[i], p[j]
*/
#include <math.h>

#include "nn/iter.h"
#include "nn/ops.h"

static uint64_t state[4];
static bool seeded;

static uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

void nn_manual_seed(uint64_t seed) {
  for (int k = 0; k < 4; k++) state[k] = splitmix64(&seed);
  seeded = true;
}

/* Every public entry calls this first, so that next() stays small enough to inline. */
static void ensure_seeded(void) {
  if (!seeded) nn_manual_seed(NN_DEFAULT_SEED);
}

static inline uint64_t next(void) {
  uint64_t *s = state;
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

void nn_rng_state(uint64_t s[4]) {
  ensure_seeded();
  for (int k = 0; k < 4; k++) s[k] = state[k];
}

int nn_rng_set_state(const uint64_t s[4]) {
  if ((s[0] | s[1] | s[2] | s[3]) == 0) return nn_errc("generator state is all zeros");
  for (int k = 0; k < 4; k++) state[k] = s[k];
  seeded = true;
  return 0;
}

static inline float uniform24(void) {
  return (float)(next() >> 40) * 0x1p-24f;
}
static inline double uniform53(void) {
  return (double)(next() >> 11) * 0x1p-53;
}

/* Uniform in [0, span), span > 0; span == 0 stands for 2^64 (every value). */
static uint64_t below(uint64_t span) {
  if (span == 0) return next();
  uint64_t threshold = -span % span; /* 2^64 mod span: the first values of an uneven cycle */
  for (;;) {
    uint64_t x = next();
    if (x >= threshold) return x % span;
  }
}

/* Two independent normals by Marsaglia's polar form of Box-Muller: a point drawn uniformly
   in the unit disc gives both, with a log and a sqrt but no sin or cos. */
static void normal_pair(double z[2]) {
  double u, v, s;
  do {
    u = 2 * uniform53() - 1;
    v = 2 * uniform53() - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  double f = sqrt(-2 * log(s) / s);
  z[0] = u * f;
  z[1] = v * f;
}

double nn_rand_uniform(void) {
  ensure_seeded();
  return uniform53();
}

double nn_rand_normal(void) {
  ensure_seeded();
  double z[2];
  normal_pair(z);
  return z[0];
}

/* ---- filling tensors ---- */

typedef enum fill_kind { UNIFORM, NORMAL, INTEGER } fill_kind;

typedef struct fill {
  fill_kind kind;
  nn_dtype dtype;
  int64_t lo; /* INTEGER: lo + below(span) */
  uint64_t span;
  double z[2]; /* NORMAL: the pair being used, z[spare] is next when spare < 2 */
  int spare;
} fill;

static void store_int(char *p, nn_dtype dt, int64_t v) {
  switch (dt) {
  case NN_F32: *(float *)p = (float)v; break;
  case NN_F64: *(double *)p = (double)v; break;
  case NN_I64: *(int64_t *)p = v; break;
  default: *(uint8_t *)p = (uint8_t)v; break;
  }
}

static double next_normal(fill *f) {
  if (f->spare >= 2) normal_pair(f->z), f->spare = 0;
  return f->z[f->spare++];
}

/* One row of the iterator: rows come in row-major logical order, so a strided view draws
   the same numbers as a contiguous tensor of its shape. */
static void fill_row(char **p, const int64_t *step, int64_t n, void *ctx) {
  fill *f = ctx;
  char *q = p[0];
  for (int64_t i = 0; i < n; i++, q += step[0]) {
    switch (f->kind) {
    case UNIFORM:
      if (f->dtype == NN_F32)
        *(float *)q = uniform24();
      else
        *(double *)q = uniform53();
      break;
    case NORMAL:
      if (f->dtype == NN_F32)
        *(float *)q = (float)next_normal(f);
      else
        *(double *)q = next_normal(f);
      break;
    case INTEGER: store_int(q, f->dtype, (int64_t)((uint64_t)f->lo + below(f->span))); break;
    }
  }
}

static int run_fill(nn_tensor *t, fill *f) {
  nn_iter it;
  if (nn_iter_init(&it, 1, (const nn_tensor *[]){t}) < 0) return -1;
  ensure_seeded();
  nn_iter_run(&it, fill_row, f);
  return 0;
}

static int need_float(const nn_tensor *t, const char *what) {
  if (nn_dtype_is_float(t->dtype)) return 0;
  return nn_errc("%s needs a float tensor (f32 or f64), got %s", what, nn_dtype_name(t->dtype));
}

int nn_rand_(nn_tensor *t) {
  if (need_float(t, "rand") < 0) return -1;
  return run_fill(t, &(fill){.kind = UNIFORM, .dtype = t->dtype});
}

int nn_randn_(nn_tensor *t) {
  if (need_float(t, "randn") < 0) return -1;
  return run_fill(t, &(fill){.kind = NORMAL, .dtype = t->dtype, .spare = 2});
}

/* The integers a dtype holds exactly: beyond them randint's values would be rounded. */
static void exact_range(nn_dtype dt, int64_t *lo, int64_t *hi) {
  switch (dt) {
  case NN_F32: *lo = -(1LL << 24), *hi = 1LL << 24; break;
  case NN_F64: *lo = -(1LL << 53), *hi = 1LL << 53; break;
  case NN_I64: *lo = INT64_MIN, *hi = INT64_MAX; break;
  default: *lo = 0, *hi = 255; break;
  }
}

int nn_randint_(nn_tensor *t, int64_t lo, int64_t hi) {
  if (lo > hi)
    return nn_errc("randint: lower bound %lld is above upper bound %lld", (long long)lo,
                   (long long)hi);
  int64_t min, max;
  exact_range(t->dtype, &min, &max);
  if (lo < min || hi > max)
    return nn_errc("randint: range [%lld, %lld] does not fit in %s (integers %lld to %lld)",
                   (long long)lo, (long long)hi, nn_dtype_name(t->dtype), (long long)min,
                   (long long)max);
  uint64_t span = (uint64_t)hi - (uint64_t)lo + 1; /* 0 when the range is all of int64 */
  return run_fill(t, &(fill){.kind = INTEGER, .dtype = t->dtype, .lo = lo, .span = span});
}

nn_tensor *nn_randperm(int64_t n) {
  if (n < 0) return nn_err("randperm: n must be >= 0, got %lld", (long long)n);
  nn_tensor *t = nn_empty(NN_I64, 1, &n);
  if (!t) return NULL;
  int64_t *p = (int64_t *)nn_data(t);
  ensure_seeded();
  for (int64_t i = 0; i < n; i++) p[i] = i;
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)below((uint64_t)i + 1), v = p[i];
    p[i] = p[j];
    p[j] = v;
  }
  return t;
}
