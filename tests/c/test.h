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

#define TEST(name)                                                                             \
  static void test_##name(int *failures);                                                      \
  __attribute__((constructor)) static void register_##name(void) {                            \
    test_register(#name, test_##name);                                                         \
  }                                                                                            \
  static void test_##name(int *failures)

#define CHECK(cond)                                                                            \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);              \
      ++*failures;                                                                             \
    }                                                                                          \
  } while (0)
#define REQUIRE(cond)                                                                          \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      fprintf(stderr, "  %s:%d: REQUIRE(%s) failed (%s)\n", __FILE__, __LINE__, #cond,       \
              nn_errmsg());                                                                    \
      ++*failures;                                                                             \
      return;                                                                                  \
    }                                                                                          \
  } while (0)
#define CHECK_NEAR(a, b, tol) CHECK(fabs((double)(a) - (double)(b)) <= (tol))

/* the value at a flat, row-major logical index (tests only: slow) */
double test_get(const nn_tensor *t, int64_t i);

#endif
