/*
** nn/ops/recurrent_gemm.c: the packed per-step f32 GEMM of the recurrent ops (see
** recurrent_gemm.h). One kernel source (recurrent_gemm_kern.h) built for AVX-512 (tiles of
** 8 rows by 32 columns) and for AVX2+FMA (4 by 16); the CPU picks one when B is packed.
*/
#include <string.h>

#include "nn/alloc.h"
#include "nn/ops/recurrent_gemm.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(NN_NO_CLONES)
#define RGEMM_X86 1
#include <immintrin.h>

#define ISA    _avx512
#define TARGET __attribute__((target("avx512f")))
#define VEC    __m512
#define VL     16
#define NV     2
#define MR     8
#define LOADU  _mm512_loadu_ps
#define STOREU _mm512_storeu_ps
#define SET1   _mm512_set1_ps
#define ZERO   _mm512_setzero_ps
#define ADD    _mm512_add_ps
#define FMADD  _mm512_fmadd_ps
#include "nn/ops/recurrent_gemm_kern.h"

#define ISA    _avx2
#define TARGET __attribute__((target("avx2,fma")))
#define VEC    __m256
#define VL     8
#define NV     2
#define MR     4
#define LOADU  _mm256_loadu_ps
#define STOREU _mm256_storeu_ps
#define SET1   _mm256_set1_ps
#define ZERO   _mm256_setzero_ps
#define ADD    _mm256_add_ps
#define FMADD  _mm256_fmadd_ps
#include "nn/ops/recurrent_gemm_kern.h"
#endif

typedef void panels_fn(const nn_rgemm *, int64_t, int64_t, int64_t, const float *, int64_t, bool,
                       float *, int64_t);
struct nn_rgemm_kernel {
  panels_fn *panels;
  int nr;
};
typedef struct nn_rgemm_kernel kernel;

/* the kernel for this CPU, or NULL */
static const kernel *pick(void) {
#ifdef RGEMM_X86
  static const kernel avx512 = {panels_avx512, 32}, avx2 = {panels_avx2, 16};
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return &avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &avx2;
#endif
  return NULL;
}

bool nn_rgemm_pack(nn_rgemm *g, const float *b, int64_t ldb, bool trans, int64_t K, int64_t N) {
  memset(g, 0, sizeof *g);
  const kernel *k = pick();
  if (!k || K < 1 || N < 1) return false;
  int nr = k->nr;
  int64_t np = (N + nr - 1) / nr;
  size_t bytes = (size_t)(np * nr * K) * sizeof(float);
  float *p = nn_alloc(bytes);
  if (!p) return false;
  memset(p, 0, bytes);
  for (int64_t n = 0; n < N; n++) { /* column n of B to column n % nr of panel n / nr */
    float *col = p + (n / nr) * K * nr + n % nr;
    if (trans)
      for (int64_t kk = 0; kk < K; kk++) col[kk * nr] = b[n * ldb + kk];
    else
      for (int64_t kk = 0; kk < K; kk++) col[kk * nr] = b[kk * ldb + n];
  }
  *g = (nn_rgemm){.p = p, .K = K, .N = N, .npanel = np, .nr = nr, .bytes = bytes, .kern = k};
  return true;
}

void nn_rgemm_free(nn_rgemm *g) {
  if (g->p) nn_free(g->p, g->bytes);
  memset(g, 0, sizeof *g);
}

void nn_rgemm_run(const nn_rgemm *g, int64_t M, const float *a, int64_t lda, bool acc, float *c,
                  int64_t ldc) {
  g->kern->panels(g, 0, g->npanel, M, a, lda, acc, c, ldc);
}
