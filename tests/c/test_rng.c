/* tests/c/test_rng.c: the generator's exact numbers, distributions, ranges, permutations.
   The expected values come from an independent Python reimplementation of the algorithm
   documented in nn/rng.c (splitmix64 seeding, xoshiro256**), itself checked against the
   published reference outputs of both generators. */
#include <string.h>

#include "test.h"

static nn_tensor *vec(nn_dtype dt, int64_t n) {
  return nn_empty(dt, 1, &n);
}

TEST(rng_seed_state) {
  nn_manual_seed(42);
  uint64_t s[4];
  nn_rng_state(s);
  CHECK(s[0] == 0xbdd732262feb6e95u && s[1] == 0x28efe333b266f103u);
  CHECK(s[2] == 0x47526757130f9f52u && s[3] == 0x581ce1ff0e4ae394u);
}

/* randint over all of int64 hands out the raw 64-bit draws, shifted by 2^63. */
TEST(rng_raw_outputs) {
  static const uint64_t want[4] = {0x15780b2e0c2ec716u, 0x6104d9866d113a7eu, 0xae17533239e499a1u,
                                   0xecb8ad4703b360a1u};
  nn_tensor *t = vec(NN_I64, 4);
  nn_manual_seed(42);
  REQUIRE(nn_randint_(t, INT64_MIN, INT64_MAX) == 0);
  for (int k = 0; k < 4; k++)
    CHECK(((uint64_t)((int64_t *)nn_data(t))[k] ^ (1ull << 63)) == want[k]);
  nn_manual_seed(NN_DEFAULT_SEED);
  CHECK(nn_rand_uniform() == (double)(0xc991a3f2dae735abu >> 11) * 0x1p-53);
  nn_release(t);
}

TEST(rng_known_values) {
  nn_tensor *d = vec(NN_F64, 3), *f = vec(NN_F32, 3), *n = vec(NN_F64, 3);
  nn_tensor *dice = vec(NN_I64, 10);
  nn_manual_seed(42);
  REQUIRE(nn_rand_(d) == 0);
  double *dv = (double *)nn_data(d);
  CHECK(dv[0] == 0.08386297105988216 && dv[1] == 0.3789802506626686);
  CHECK(dv[2] == 0.6800434110281394);
  nn_manual_seed(42);
  REQUIRE(nn_rand_(f) == 0);
  float *fv = (float *)nn_data(f);
  CHECK(fv[0] == 0.08386296033859253f && fv[1] == 0.37898021936416626f);
  CHECK(fv[2] == 0.6800433993339539f);
  nn_manual_seed(42);
  REQUIRE(nn_randn_(n) == 0);
  CHECK_NEAR(test_get(n, 0), -0.7262191382447857, 1e-12);
  CHECK_NEAR(test_get(n, 1), -0.21119691823195985, 1e-12);
  CHECK_NEAR(test_get(n, 2), 0.2216227015035933, 1e-12);
  nn_manual_seed(42);
  REQUIRE(nn_randint_(dice, 1, 6) == 0);
  static const int64_t rolls[10] = {1, 1, 6, 6, 5, 1, 5, 4, 5, 6};
  CHECK(memcmp(nn_data(dice), rolls, sizeof rolls) == 0);
  nn_manual_seed(42);
  nn_tensor *p = nn_randperm(10);
  REQUIRE(p);
  static const int64_t perm[10] = {7, 3, 8, 9, 5, 6, 4, 1, 0, 2};
  CHECK(memcmp(nn_data(p), perm, sizeof perm) == 0);
  nn_tensor *all[] = {d, f, n, dice, p};
  for (size_t k = 0; k < sizeof all / sizeof *all; k++) nn_release(all[k]);
}

/* A transposed view draws the numbers a contiguous tensor would, in logical order. */
TEST(rng_strided_views) {
  nn_tensor *c = nn_empty(NN_F32, 2, (int64_t[]){3, 4});
  nn_tensor *base = nn_empty(NN_F32, 2, (int64_t[]){4, 3}), *tv = nn_transpose(base, 0, 1);
  nn_manual_seed(7);
  REQUIRE(nn_randn_(c) == 0);
  nn_manual_seed(7);
  REQUIRE(nn_randn_(tv) == 0);
  bool same = true;
  for (int64_t i = 0; i < 12; i++) same = same && test_get(c, i) == test_get(tv, i);
  CHECK(same);
  nn_release(c), nn_release(base), nn_release(tv);
}

static void moments(const nn_tensor *t, double *mean, double *var) {
  int64_t n = nn_numel(t);
  double s = 0, s2 = 0;
  for (int64_t i = 0; i < n; i++) {
    double v = test_get(t, i);
    s += v, s2 += v * v;
  }
  *mean = s / n;
  *var = s2 / n - *mean * *mean;
}

TEST(rng_distributions) {
  nn_manual_seed(123);
  nn_dtype dts[2] = {NN_F32, NN_F64};
  for (int k = 0; k < 2; k++) {
    nn_tensor *u = vec(dts[k], 100000), *z = vec(dts[k], 100000);
    REQUIRE(nn_rand_(u) == 0 && nn_randn_(z) == 0);
    double m, v, lo = 1, hi = 0;
    moments(u, &m, &v);
    CHECK_NEAR(m, 0.5, 0.005);
    CHECK_NEAR(v, 1.0 / 12, 0.002);
    for (int64_t i = 0; i < 100000; i++) {
      double x = test_get(u, i);
      lo = x < lo ? x : lo, hi = x > hi ? x : hi;
    }
    CHECK(lo >= 0 && hi < 1);
    moments(z, &m, &v);
    CHECK_NEAR(m, 0, 0.01);
    CHECK_NEAR(v, 1, 0.02);
    nn_release(u), nn_release(z);
  }
  double s = 0;
  for (int i = 0; i < 10000; i++) s += nn_rand_normal();
  CHECK_NEAR(s / 10000, 0, 0.04);
}

TEST(rng_randint_range) {
  nn_tensor *t = vec(NN_I64, 10000), *b = vec(NN_U8, 5000), *f = vec(NN_F32, 1000);
  REQUIRE(nn_randint_(t, -2, 3) == 0);
  int seen[6] = {0}, bad = 0;
  for (int64_t i = 0; i < 10000; i++) {
    int64_t v = ((int64_t *)nn_data(t))[i];
    if (v < -2 || v > 3)
      bad++;
    else
      seen[v + 2]++;
  }
  CHECK(bad == 0);
  for (int k = 0; k < 6; k++) CHECK(seen[k] > 1400 && seen[k] < 1930); /* 1667 expected */
  REQUIRE(nn_randint_(b, 0, 255) == 0);
  bool hit[256] = {false};
  for (int64_t i = 0; i < 5000; i++) hit[((uint8_t *)nn_data(b))[i]] = true;
  int distinct = 0;
  for (int k = 0; k < 256; k++) distinct += hit[k];
  CHECK(distinct == 256);
  REQUIRE(nn_randint_(f, 5, 5) == 0);
  CHECK(test_get(f, 0) == 5 && test_get(f, 999) == 5);
  CHECK(nn_randint_(t, 3, 2) == -1 && strstr(nn_errmsg(), "above"));
  CHECK(nn_randint_(b, 0, 256) == -1 && strstr(nn_errmsg(), "does not fit in u8"));
  CHECK(nn_randint_(f, 0, 1LL << 30) == -1);
  nn_release(t), nn_release(b), nn_release(f);
}

TEST(rng_randperm) {
  nn_tensor *p = nn_randperm(1000);
  REQUIRE(p && p->dtype == NN_I64 && p->ndim == 1 && p->shape[0] == 1000);
  bool seen[1000] = {false}, ok = true, moved = false;
  for (int64_t i = 0; i < 1000; i++) {
    int64_t v = ((int64_t *)nn_data(p))[i];
    ok = ok && v >= 0 && v < 1000 && !seen[v];
    if (ok) seen[v] = true;
    moved = moved || v != i;
  }
  CHECK(ok && moved);
  nn_tensor *e = nn_randperm(0), *one = nn_randperm(1);
  CHECK(e && nn_numel(e) == 0);
  CHECK(one && ((int64_t *)nn_data(one))[0] == 0);
  CHECK(nn_randperm(-1) == NULL && strstr(nn_errmsg(), ">= 0"));
  nn_release(p), nn_release(e), nn_release(one);
}

TEST(rng_state_roundtrip) {
  uint64_t s[4];
  nn_rng_state(s);
  double a[5], b[5];
  for (int k = 0; k < 5; k++) a[k] = nn_rand_uniform();
  REQUIRE(nn_rng_set_state(s) == 0);
  for (int k = 0; k < 5; k++) b[k] = nn_rand_uniform();
  CHECK(memcmp(a, b, sizeof a) == 0);
  CHECK(nn_rng_set_state((uint64_t[4]){0}) == -1 && strstr(nn_errmsg(), "zeros"));
}

TEST(rng_bad_and_odd_tensors) {
  nn_tensor *i = vec(NN_I64, 3), *s = nn_scalar(NN_F64, 0), *e = vec(NN_F32, 0);
  CHECK(nn_rand_(i) == -1 && strstr(nn_errmsg(), "float"));
  CHECK(nn_randn_(i) == -1);
  CHECK(nn_rand_(s) == 0 && test_get(s, 0) >= 0 && test_get(s, 0) < 1);
  CHECK(nn_randn_(e) == 0 && nn_randint_(e, 0, 1) == 0);
  nn_release(i), nn_release(s), nn_release(e);
}
