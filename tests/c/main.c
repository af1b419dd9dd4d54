/* tests/c/main.c: runs every registered C test, or those whose names contain argv[1]. */
#include <stdlib.h>
#include <string.h>

#include "nn/alloc.h"
#include "test.h"

enum { MAX_TESTS = 1024 };
static struct {
  const char *name;
  test_fn fn;
} tests[MAX_TESTS];
static int ntests;

void test_register(const char *name, test_fn fn) {
  if (ntests < MAX_TESTS) tests[ntests].name = name, tests[ntests++].fn = fn;
}

double test_get(const nn_tensor *t, int64_t i) {
  int64_t idx[NN_MAXDIM];
  for (int d = t->ndim - 1; d >= 0; d--) {
    idx[d] = i % t->shape[d];
    i /= t->shape[d];
  }
  return nn_load(nn_at(t, idx), t->dtype);
}

int main(int argc, char **argv) {
  int passed = 0, failed = 0;
  for (int k = 0; k < ntests; k++) {
    if (argc > 1 && !strstr(tests[k].name, argv[1])) continue;
    int failures = 0;
    tests[k].fn(&failures);
    printf("%s %s\n", failures ? "not ok" : "ok", tests[k].name);
    failures ? failed++ : passed++;
  }
  printf("# c: %d passed, %d failed\n", passed, failed);
  nn_alloc_trim();
  return failed ? 1 : 0;
}
