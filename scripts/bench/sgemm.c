/* scripts/bench/sgemm.c: OpenBLAS sgemm called directly from C, 1024x1024: the ceiling a
   relua matmul is measured against. Prints "sgemm_1024 seconds": the best time per call over
   batches of 5 calls for 1.5 s, as ops.lua measures relua's. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(void) {
  enum { N = 1024, CALLS = 5 };
  const double budget = 1.5;
  float *a = malloc(sizeof(float) * N * N), *b = malloc(sizeof(float) * N * N);
  float *c = malloc(sizeof(float) * N * N);
  for (int i = 0; i < N * N; i++) a[i] = (float)rand() / RAND_MAX, b[i] = (float)rand() / RAND_MAX;
  double best = 1e9, start = now();
  for (int batch = 0; batch < 3 || now() - start < budget; batch++) {
    double t0 = now();
    for (int k = 0; k < CALLS; k++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1, a, N, b, N, 0, c, N);
    double t = (now() - t0) / CALLS;
    if (t < best) best = t;
  }
  printf("sgemm_1024 %g\n", best);
  free(a), free(b), free(c);
  return 0;
}
