/*
** nn/ops/recurrent_gemm_kern.h: the kernels of recurrent_gemm.c for one instruction set,
** included once per set with ISA (the name suffix), TARGET (the function attribute), VEC, VL
** (the vector type and its floats), NV (vectors per panel row, so nr = NV VL), MR (rows per
** tile) and the intrinsics LOADU, STOREU, SET1, ZERO, ADD, FMADD defined.
**
** A tile is MR rows of C by one panel: MR x NV accumulators kept in registers while k runs
** over K, each element the same sequence of fused multiply-adds in every instruction set.
*/
#define CAT_(a, b) a##b
#define CAT(a, b)  CAT_(a, b)
#define NR         (NV * VL)

/* rows [0, R) of C by the panel bp; only the first nvalid columns of C are written */
TARGET static inline __attribute__((always_inline)) void
CAT(tile, ISA)(int R, int64_t K, const float *restrict a, int64_t lda, const float *restrict bp,
               bool acc, float *restrict c, int64_t ldc, int64_t nvalid) {
  VEC s[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) s[r][v] = ZERO();
  for (int64_t k = 0; k < K; k++) {
    VEC b[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) b[v] = LOADU(bp + k * NR + v * VL);
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      if (r >= R) break;
      VEC x = SET1(a[r * lda + k]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; v++) s[r][v] = FMADD(x, b[v], s[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) {
    if (r >= R) break;
    float *cr = c + r * ldc;
    if (nvalid == NR) {
#pragma GCC unroll 8
      for (int v = 0; v < NV; v++) {
        VEC y = s[r][v];
        if (acc) y = ADD(LOADU(cr + v * VL), y);
        STOREU(cr + v * VL, y);
      }
    } else {
      float tmp[NR];
#pragma GCC unroll 8
      for (int v = 0; v < NV; v++) STOREU(tmp + v * VL, s[r][v]);
      for (int64_t n = 0; n < nvalid; n++) cr[n] = acc ? cr[n] + tmp[n] : tmp[n];
    }
  }
}

/* panels [lo, hi) of C = A B (+ C): whole tiles of MR rows, then the rows left one by one */
TARGET static void CAT(panels, ISA)(const nn_rgemm *g, int64_t lo, int64_t hi, int64_t M,
                                    const float *a, int64_t lda, bool acc, float *c, int64_t ldc) {
  for (int64_t j = lo; j < hi; j++) {
    const float *bp = g->p + j * g->K * NR;
    int64_t n0 = j * NR, nvalid = g->N - n0 < NR ? g->N - n0 : NR;
    int64_t i = 0;
    for (; i + MR <= M; i += MR)
      CAT(tile, ISA)(MR, g->K, a + i * lda, lda, bp, acc, c + i * ldc + n0, ldc, nvalid);
    for (; i < M; i++)
      CAT(tile, ISA)(1, g->K, a + i * lda, lda, bp, acc, c + i * ldc + n0, ldc, nvalid);
  }
}

#undef NR
#undef CAT
#undef CAT_

/* the next instantiation defines its own */
#undef ISA
#undef TARGET
#undef VEC
#undef VL
#undef NV
#undef MR
#undef LOADU
#undef STOREU
#undef SET1
#undef ZERO
#undef ADD
#undef FMADD
