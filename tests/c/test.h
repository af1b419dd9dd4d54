/*
** tests/c/test.h: a small test harness for the C core. A test is a function declared with
** TEST(name); it registers itself. CHECK records a failure and goes on; REQUIRE returns.
** The runner prints "ok name" or "not ok name" per test (TAP-like) and a closing count.
*/
#ifndef TEST_H
#define TEST_H

#include <math.h>
#include <stdio.h>

#include "nn/ops.h"

typedef void (*test_fn)(int *failures);
void test_register(const char *name, test_fn fn);
/* Marks the running test as skipped, with the reason (printf-style); call it, then return.
   The runner prints "ok name # SKIP reason" and counts it as skipped, not passed. */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define TEST(name)                                                                                 \
  static void test_##name(int *failures);                                                          \
  __attribute__((constructor)) static void register_##name(void) {                                 \
    test_register(#name, test_##name);                                                             \
  }                                                                                                \
  static void test_##name(int *failures)

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);                   \
      ++*failures;                                                                                 \
    }                                                                                              \
  } while (0)
#define REQUIRE(cond)                                                                              \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "  %s:%d: REQUIRE(%s) failed (%s)\n", __FILE__, __LINE__, #cond,             \
              nn_errmsg());                                                                        \
      ++*failures;                                                                                 \
      return;                                                                                      \
    }                                                                                              \
  } while (0)
#define CHECK_NEAR(a, b, tol) CHECK(fabs((double)(a) - (double)(b)) <= (tol))

#define LEN(a) (int64_t)(sizeof a / sizeof *a)

/* ---- helpers shared by the tests (main.c); slow and simple ---- */

/* A tensor of dtype dt holding vals in row-major order (NULL when nn_empty fails). */
nn_tensor *test_tensor(nn_dtype dt, int ndim, const int64_t *shape, const double *vals);
/* shape filled row-major with start, start + step, ... */
nn_tensor *test_seq(nn_dtype dt, int ndim, const int64_t *shape, double start, double step);
/* The element at a flat, row-major logical index of a possibly strided tensor, and its
   value. */
void *test_at(const nn_tensor *t, int64_t i);
double test_get(const nn_tensor *t, int64_t i);
/* The sum of a[i] b[i] over a's elements (b has at least as many). */
double test_dot(const nn_tensor *a, const nn_tensor *b);

/* Reproducible numbers: uniform in [lo, hi) from a 64-bit LCG whose state is *s, and an
   f64 tensor of them drawn in row-major order. */
double test_uniform(uint64_t *s, double lo, double hi);
nn_tensor *test_random_f64(uint64_t *s, int ndim, const int64_t *shape, double lo, double hi);
/* The gradient checks' tolerance: an analytic derivative against a finite difference. */
bool test_grad_close(double analytic, double numeric);

void test_release_all(int n, nn_tensor **ts);
#define RELEASE(...)                                                                               \
  test_release_all(sizeof((nn_tensor *[]){__VA_ARGS__}) / sizeof(nn_tensor *),                     \
                   (nn_tensor *[]){__VA_ARGS__})

#endif
