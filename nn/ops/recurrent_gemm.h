/*
** nn/ops/recurrent_gemm.h: the per-step GEMM of the fused recurrent ops (recurrent.c) in f32,
** C (M x N) = A (M x K) B (+ C), with B packed once per sequence into column panels that stay
** in cache from step to step (OpenBLAS packs its operand anew on every call, and its threads
** cost more than they give at batch 32). AVX-512 or AVX2+FMA kernels, picked by the CPU;
** nn_rgemm_pack returns false where neither is there (or off x86-64 GCC), and the caller
** then uses BLAS.
*/
#ifndef NN_OPS_RECURRENT_GEMM_H
#define NN_OPS_RECURRENT_GEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nn_rgemm {
  float *p; /* panels of nr columns, each K x nr, zero-padded past N */
  int64_t K, N, npanel;
  int nr;
  size_t bytes;
  const struct nn_rgemm_kernel *kern; /* the instruction set's kernel */
} nn_rgemm;

/* Packs the K x N matrix B, B[k][n] = b[n ldb + k] when trans, else b[k ldb + n]. False
   (nothing allocated) when no kernel fits this CPU or memory runs out. */
bool nn_rgemm_pack(nn_rgemm *g, const float *b, int64_t ldb, bool trans, int64_t K, int64_t N);
void nn_rgemm_free(nn_rgemm *g);

/* C = A B, or C += A B when acc; A is M x K with row stride lda, C M x N with row stride ldc.
   On the calling thread (recurrent.c splits the batch over threads); no allocation. */
void nn_rgemm_run(const nn_rgemm *g, int64_t M, const float *a, int64_t lda, bool acc, float *c,
                  int64_t ldc);

#endif
