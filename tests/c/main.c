/* tests/c/main.c: the helpers of test.h, and the runner: every registered C test, or those
   whose names contain argv[1]. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/alloc.h"
#include "test.h"

/* ---- shared helpers ---- */

nn_tensor *test_tensor(nn_dtype dt, int ndim, const int64_t *shape, const double *vals) {
  nn_tensor *t = nn_empty(dt, ndim, shape);
  for (int64_t i = 0; t && i < nn_numel(t); i++)
    nn_store(nn_data(t) + i * (int64_t)nn_dtype_size(dt), dt, vals[i]);
  return t;
}

nn_tensor *test_seq(nn_dtype dt, int ndim, const int64_t *shape, double start, double step) {
  nn_tensor *t = nn_empty(dt, ndim, shape);
  for (int64_t i = 0; t && i < nn_numel(t); i++)
    nn_store(nn_data(t) + i * (int64_t)nn_dtype_size(dt), dt, start + (double)i * step);
  return t;
}

void *test_at(const nn_tensor *t, int64_t i) {
  int64_t idx[NN_MAXDIM];
  for (int d = t->ndim - 1; d >= 0; d--) {
    idx[d] = i % t->shape[d];
    i /= t->shape[d];
  }
  return nn_at(t, idx);
}

double test_get(const nn_tensor *t, int64_t i) {
  return nn_load(test_at(t, i), t->dtype);
}

double test_dot(const nn_tensor *a, const nn_tensor *b) {
  double s = 0;
  for (int64_t i = 0; i < nn_numel(a); i++) s += test_get(a, i) * test_get(b, i);
  return s;
}

double test_uniform(uint64_t *s, double lo, double hi) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return lo + (hi - lo) * (double)(*s >> 11) / 9007199254740992.0;
}

nn_tensor *test_random_f64(uint64_t *s, int ndim, const int64_t *shape, double lo, double hi) {
  nn_tensor *t = nn_empty(NN_F64, ndim, shape);
  for (int64_t i = 0; t && i < nn_numel(t); i++)
    ((double *)nn_data(t))[i] = test_uniform(s, lo, hi);
  return t;
}

bool test_grad_close(double analytic, double numeric) {
  return fabs(analytic - numeric) <= 1e-6 + 1e-5 * fabs(numeric);
}

void test_release_all(int n, nn_tensor **ts) {
  for (int k = 0; k < n; k++) nn_release(ts[k]);
}

/* ---- the runner ---- */

enum { MAX_TESTS = 1024 };
static struct {
  const char *name;
  test_fn fn;
} tests[MAX_TESTS];
static int ntests;

void test_register(const char *name, test_fn fn) {
  if (ntests < MAX_TESTS) tests[ntests].name = name, tests[ntests++].fn = fn;
}

static char skip_reason[256]; /* set by test_skip() during the current test */

void test_skip(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(skip_reason, sizeof skip_reason, fmt, ap);
  va_end(ap);
}

int main(int argc, char **argv) {
  int passed = 0, failed = 0, skipped = 0;
  for (int k = 0; k < ntests; k++) {
    if (argc > 1 && !strstr(tests[k].name, argv[1])) continue;
    int failures = 0;
    skip_reason[0] = '\0';
    tests[k].fn(&failures);
    if (failures) {
      printf("not ok %s\n", tests[k].name);
      failed++;
    } else if (skip_reason[0]) {
      printf("ok %s # SKIP %s\n", tests[k].name, skip_reason);
      skipped++;
    } else {
      printf("ok %s\n", tests[k].name);
      passed++;
    }
  }
  printf("# c: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
  nn_alloc_trim();
  return failed ? 1 : 0;
}
