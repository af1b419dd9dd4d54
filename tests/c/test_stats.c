/* tests/c/test_stats.c: zeros, active and dead units, activation patterns, path lengths
   (nn/stats.c). The region counts are exact facts about line arrangements. */
#include <string.h>

#include "nn/stats.h"
#include "test.h"

static int64_t get_i64(const nn_tensor *t, int64_t i) {
  return ((const int64_t *)nn_data(t))[i];
}

TEST(stats_count_zeros) {
  const double v[6] = {0, 1, -0.0, 2, 0, NAN};
  for (int dt = 0; dt < NN_NDTYPES; dt++) {
    double w[6];
    memcpy(w, v, sizeof w);
    if (!nn_dtype_is_float((nn_dtype)dt)) w[5] = 7; /* NaN has no integer form */
    nn_tensor *t = test_tensor((nn_dtype)dt, 2, (int64_t[]){2, 3}, w);
    REQUIRE(t);
    CHECK(nn_stats_count_zeros(t) == 3);
    nn_tensor *tt = nn_transpose(t, 0, 1); /* strided */
    CHECK(nn_stats_count_zeros(tt) == 3);
    nn_tensor *col = nn_select(t, 1, 0); /* {0, 2}: one zero */
    CHECK(nn_stats_count_zeros(col) == 1);
    nn_release(col);
    nn_release(tt);
    nn_release(t);
  }
  nn_tensor *s = nn_scalar(NN_F32, 0);
  nn_tensor *e = nn_zeros(NN_F32, 2, (int64_t[]){0, 3});
  nn_tensor *big = nn_zeros(NN_F64, 3, (int64_t[]){2, 1, 3});
  nn_tensor *x = nn_expand(big, 3, (int64_t[]){2, 5, 3}); /* stride 0 */
  CHECK(nn_stats_count_zeros(s) == 1);
  CHECK(nn_stats_count_zeros(e) == 0);
  CHECK(nn_stats_count_zeros(x) == 30);
  nn_release(x);
  nn_release(big);
  nn_release(e);
  nn_release(s);
}

TEST(stats_active_and_dead_units) {
  /* 3 samples x 4 units: unit 2 never > 0, unit 4 only on sample 3 */
  const double v[12] = {1, 0, 0.5, 0, 0, -1, 2, 0, 3, 0, 0, 0.25};
  nn_tensor *h = test_tensor(NN_F32, 2, (int64_t[]){3, 4}, v);
  REQUIRE(h);
  CHECK(nn_stats_samples(h) == 3 && nn_stats_units(h) == 4);
  nn_tensor *a = nn_stats_active(h);
  REQUIRE(a && a->dtype == NN_U8 && nn_numel(a) == 4);
  const uint8_t *m = (const uint8_t *)nn_data(a);
  CHECK(m[0] == 1 && m[1] == 0 && m[2] == 1 && m[3] == 1);
  CHECK(nn_stats_dead_count(h) == 1);
  /* the first two samples alone: units 2 and 4 dead; a window adds the third */
  nn_tensor *first = nn_narrow(h, 0, 0, 2), *last = nn_narrow(h, 0, 2, 1);
  CHECK(nn_stats_dead_count(first) == 2);
  nn_tensor *acc = nn_zeros(NN_U8, 1, (int64_t[]){4});
  CHECK(nn_stats_active_(acc, first) == 0);
  CHECK(nn_stats_count_zeros(acc) == 2);
  CHECK(nn_stats_active_(acc, last) == 0);
  CHECK(nn_stats_count_zeros(acc) == 1);
  /* units are every dim after the first; the transposed (strided) view is read right */
  nn_tensor *t = nn_transpose(h, 0, 1); /* 4 samples x 3 units: unit 3 is sample 3 above */
  CHECK(nn_stats_dead_count(t) == 0);
  nn_tensor *h3 = nn_view(h, 3, (int64_t[]){3, 2, 2});
  CHECK(nn_stats_units(h3) == 4 && nn_stats_dead_count(h3) == 1);
  /* a 1-D tensor is one sample */
  nn_tensor *row = nn_select(h, 0, 0);
  CHECK(nn_stats_samples(row) == 1 && nn_stats_dead_count(row) == 2);
  /* integer dtypes */
  nn_tensor *hi = nn_to(h, NN_I64); /* 0.5 and 0.25 become 0: unit 4 dies, unit 3 has 2 */
  CHECK(nn_stats_dead_count(hi) == 2);
  nn_release(hi);
  nn_release(row);
  nn_release(h3);
  nn_release(t);
  nn_release(acc);
  nn_release(last);
  nn_release(first);
  nn_release(a);
  nn_release(h);
}

TEST(stats_active_errors) {
  nn_tensor *h = nn_zeros(NN_F32, 2, (int64_t[]){3, 4});
  nn_tensor *bad_dtype = nn_zeros(NN_F32, 1, (int64_t[]){4});
  nn_tensor *bad_size = nn_zeros(NN_U8, 1, (int64_t[]){5});
  CHECK(nn_stats_active_(bad_dtype, h) < 0 && strstr(nn_errmsg(), "u8"));
  CHECK(nn_stats_active_(bad_size, h) < 0 && strstr(nn_errmsg(), "5 elements"));
  nn_tensor *f = nn_zeros(NN_F32, 1, (int64_t[]){3});
  CHECK(nn_stats_changes(f, false) < 0 && strstr(nn_errmsg(), "integer"));
  CHECK(nn_stats_distinct(h, NULL) < 0 && strstr(nn_errmsg(), "1-D"));
  CHECK(nn_stats_pattern_ids(NULL, 0) == NULL && strstr(nn_errmsg(), "no activations"));
  nn_tensor *other = nn_zeros(NN_F32, 2, (int64_t[]){2, 4});
  CHECK(nn_stats_pattern_ids((nn_tensor *[]){h, other}, 2) == NULL &&
        strstr(nn_errmsg(), "layer 2 has 2 samples"));
  nn_tensor *s = nn_scalar(NN_F64, 1);
  CHECK(nn_stats_path_length(s, false) < 0);
  nn_release(s);
  nn_release(other);
  nn_release(f);
  nn_release(bad_size);
  nn_release(bad_dtype);
  nn_release(h);
}

TEST(stats_pattern_ids) {
  /* layer 1: 130 units (three 64-bit words), layer 2: 3 units; 4 samples where
     sample 2 = sample 1, sample 3 differs in unit 130 of layer 1, sample 4 in layer 2 */
  enum { U1 = 130, U2 = 3 };
  double v1[4 * U1], v2[4 * U2];
  for (int i = 0; i < 4; i++) {
    for (int j = 0; j < U1; j++) v1[i * U1 + j] = (j * 7 + 3) % 5 - 2.0; /* fixed signs */
    for (int j = 0; j < U2; j++) v2[i * U2 + j] = j == 1 ? 1.5 : -1;
  }
  v1[1 * U1 + 0] = 0.25; /* another positive value: the same sign */
  v1[2 * U1 + 129] = 9;  /* was (129*7+3)%5-2 = -1 */
  v2[3 * U2 + 0] = 0.5;  /* sign flip in layer 2 */
  nn_tensor *h1 = test_tensor(NN_F32, 2, (int64_t[]){4, U1}, v1);
  nn_tensor *h2 = test_tensor(NN_F64, 2, (int64_t[]){4, U2}, v2);
  REQUIRE(h1 && h2);
  nn_tensor *ids = nn_stats_pattern_ids((nn_tensor *[]){h1, h2}, 2);
  REQUIRE(ids && ids->dtype == NN_I64 && ids->ndim == 1 && ids->shape[0] == 4);
  CHECK(get_i64(ids, 0) == get_i64(ids, 1));
  CHECK(get_i64(ids, 0) != get_i64(ids, 2));
  CHECK(get_i64(ids, 0) != get_i64(ids, 3));
  CHECK(get_i64(ids, 2) != get_i64(ids, 3));
  nn_tensor *labels = NULL;
  CHECK(nn_stats_distinct(ids, &labels) == 3);
  REQUIRE(labels);
  CHECK(get_i64(labels, 0) == 0 && get_i64(labels, 1) == 0 && get_i64(labels, 2) == 1 &&
        get_i64(labels, 3) == 2);
  CHECK(nn_stats_changes(ids, false) == 2);
  CHECK(nn_stats_changes(ids, true) == 3);
  /* the same patterns as a strided view and another dtype give the same ids */
  nn_tensor *h1t = nn_transpose(h1, 0, 1), *h1c = nn_clone(h1t), *h1s = nn_transpose(h1c, 0, 1);
  nn_tensor *h2i = nn_to(h2, NN_I64); /* 1.5 -> 1, 0.5 -> 0: sample 4's flip is lost */
  nn_tensor *ids2 = nn_stats_pattern_ids((nn_tensor *[]){h1s, h2i}, 2);
  REQUIRE(ids2);
  for (int i = 0; i < 3; i++) CHECK(get_i64(ids2, i) == get_i64(ids, i));
  CHECK(get_i64(ids2, 3) == get_i64(ids, 0));
  nn_release(ids2);
  nn_release(h2i);
  nn_release(h1s);
  nn_release(h1c);
  nn_release(h1t);
  nn_release(labels);
  nn_release(ids);
  nn_release(h2);
  nn_release(h1);
}

TEST(stats_distinct_and_changes) {
  const double v[7] = {5, 3, 5, 7, 3, 3, 5};
  nn_tensor *ids = test_tensor(NN_I64, 1, (int64_t[]){7}, v);
  nn_tensor *labels = NULL;
  CHECK(nn_stats_distinct(ids, &labels) == 3);
  REQUIRE(labels);
  const int64_t want[7] = {0, 1, 0, 2, 1, 1, 0};
  for (int i = 0; i < 7; i++) CHECK(get_i64(labels, i) == want[i]);
  CHECK(nn_stats_changes(ids, false) == 5);
  CHECK(nn_stats_changes(ids, true) == 5); /* last = first */
  nn_tensor *u8 = nn_to(ids, NN_U8);
  CHECK(nn_stats_distinct(u8, NULL) == 3);
  nn_tensor *empty = nn_zeros(NN_I64, 1, (int64_t[]){0});
  CHECK(nn_stats_distinct(empty, NULL) == 0 && nn_stats_changes(empty, true) == 0);
  /* many sequential ids: the set grows past its first size */
  nn_tensor *many = nn_empty(NN_I64, 1, (int64_t[]){100000});
  for (int64_t i = 0; i < 100000; i++) ((int64_t *)nn_data(many))[i] = i / 2;
  CHECK(nn_stats_distinct(many, NULL) == 50000);
  CHECK(nn_stats_changes(many, false) == 49999);
  nn_release(many);
  nn_release(empty);
  nn_release(u8);
  nn_release(labels);
  nn_release(ids);
}

TEST(stats_path_length) {
  const double sq[8] = {0, 0, 1, 0, 1, 1, 0, 1};
  nn_tensor *p = test_tensor(NN_F32, 2, (int64_t[]){4, 2}, sq);
  CHECK_NEAR(nn_stats_path_length(p, false), 3, 1e-12);
  CHECK_NEAR(nn_stats_path_length(p, true), 4, 1e-12);
  nn_tensor *pt = nn_transpose(p, 0, 1), *back = nn_transpose(pt, 0, 1); /* strided */
  CHECK_NEAR(nn_stats_path_length(back, true), 4, 1e-12);
  const double line[3] = {0, 3, -1};
  nn_tensor *l = test_tensor(NN_F64, 1, (int64_t[]){3}, line); /* points on the real line */
  CHECK_NEAR(nn_stats_path_length(l, false), 7, 1e-12);
  CHECK_NEAR(nn_stats_path_length(l, true), 8, 1e-12);
  nn_tensor *one = nn_narrow(l, 0, 0, 1);
  CHECK(nn_stats_path_length(one, true) == 0);
  nn_release(one);
  nn_release(l);
  nn_release(back);
  nn_release(pt);
  nn_release(p);
}

/* ---- regions of a one-hidden-layer net on the plane: n lines in general position cut the
   plane into 1 + n + n(n-1)/2 regions ---- */

enum { NLINES = 5 };

/* Lines x cos(t_j) + y sin(t_j) = r_j: tangents of a circle a little perturbed, so that no
   two are parallel and no three meet in a point; every region is wide. */
static void lines(double *w, double *b) {
  const double dt[NLINES] = {0.05, -0.11, 0.07, 0.02, -0.04};
  const double dr[NLINES] = {0.1, -0.05, 0.2, 0, -0.15};
  for (int j = 0; j < NLINES; j++) {
    double t = 2 * M_PI * j / NLINES + dt[j];
    w[2 * j] = cos(t), w[2 * j + 1] = sin(t), b[j] = -(1 + dr[j]);
  }
}

/* The largest |coordinate| of any pairwise intersection. */
static double max_intersection(const double *w, const double *b) {
  double m = 0;
  for (int i = 0; i < NLINES; i++)
    for (int j = i + 1; j < NLINES; j++) {
      double det = w[2 * i] * w[2 * j + 1] - w[2 * i + 1] * w[2 * j];
      double x = (-b[i] * w[2 * j + 1] + b[j] * w[2 * i + 1]) / det;
      double y = (-w[2 * i] * b[j] + w[2 * j] * b[i]) / det;
      m = fmax(m, fmax(fabs(x), fabs(y)));
    }
  return m;
}

/* The pre-activations of the hidden layer on a res x res grid over [-ext, ext]^2. */
static nn_tensor *grid_preacts(int64_t res, double ext, const double *w, const double *b) {
  nn_tensor *h = nn_empty(NN_F32, 2, (int64_t[]){res * res, NLINES});
  if (!h) return NULL;
  float *p = (float *)nn_data(h);
  for (int64_t i = 0; i < res; i++)
    for (int64_t k = 0; k < res; k++) {
      double x = -ext + 2 * ext * k / (res - 1), y = -ext + 2 * ext * i / (res - 1);
      for (int j = 0; j < NLINES; j++) *p++ = (float)(w[2 * j] * x + w[2 * j + 1] * y + b[j]);
    }
  return h;
}

TEST(stats_regions_of_lines) {
  double w[2 * NLINES], b[NLINES];
  lines(w, b);
  double ext = 1.25 * max_intersection(w, b) + 0.5;
  nn_tensor *h = grid_preacts(512, ext, w, b);
  REQUIRE(h);
  nn_tensor *ids = nn_stats_pattern_ids(&h, 1);
  REQUIRE(ids);
  CHECK(nn_stats_distinct(ids, NULL) == 1 + NLINES + NLINES * (NLINES - 1) / 2);
  nn_tensor *relu = nn_relu(h); /* post-activations give the same patterns */
  nn_tensor *ids2 = nn_stats_pattern_ids(&relu, 1);
  REQUIRE(ids2);
  CHECK(nn_stats_distinct(ids2, NULL) == 16);
  nn_release(ids2);
  nn_release(relu);
  nn_release(ids);
  nn_release(h);
}

TEST(stats_changes_along_a_line) {
  /* the segment from (-10, 0.3) to (10, 0.3) crosses k of the lines x = c_j: those with
     |c_j| < 10; the others lie beyond its ends */
  const double c[6] = {-7.5, -2, 0.5, 3.25, 8, 12};
  enum { N = 2001 };
  nn_tensor *h = nn_empty(NN_F64, 2, (int64_t[]){N, 6});
  REQUIRE(h);
  double *p = (double *)nn_data(h);
  for (int i = 0; i < N; i++) {
    double x = -10 + 20.0 * i / (N - 1) + 1e-9; /* no sample exactly on a line */
    for (int j = 0; j < 6; j++) *p++ = j % 2 ? x - c[j] : c[j] - x; /* both orientations */
  }
  nn_tensor *ids = nn_stats_pattern_ids(&h, 1);
  REQUIRE(ids);
  CHECK(nn_stats_changes(ids, false) == 5);
  CHECK(nn_stats_changes(ids, true) == 6); /* the way back is one jump across all five */
  CHECK(nn_stats_flips(&h, 1, false) == 5);
  CHECK(nn_stats_flips(&h, 1, true) == 10); /* ... that flips all five units back */
  /* three samples, at x = -10, 0, 10: two changes of pattern, but five units flip */
  nn_tensor *coarse = nn_empty(NN_F64, 2, (int64_t[]){3, 6});
  REQUIRE(coarse);
  nn_tensor *rows = nn_narrow(h, 0, 0, 1);
  for (int i = 0; i < 3; i++) {
    nn_tensor *src = nn_narrow(h, 0, i * (N - 1) / 2, 1), *dst = nn_narrow(coarse, 0, i, 1);
    CHECK(nn_copy_(dst, src) == 0);
    nn_release(dst);
    nn_release(src);
  }
  nn_tensor *cids = nn_stats_pattern_ids(&coarse, 1);
  CHECK(cids && nn_stats_changes(cids, false) == 2);
  CHECK(nn_stats_flips(&coarse, 1, false) == 5);
  /* a second layer counts its own flips; layers must agree on the samples */
  CHECK(nn_stats_flips((nn_tensor *[]){coarse, coarse}, 2, false) == 10);
  CHECK(nn_stats_flips((nn_tensor *[]){coarse, rows}, 2, false) < 0);
  nn_release(cids);
  nn_release(rows);
  nn_release(coarse);
  nn_release(ids);
  nn_release(h);
}
