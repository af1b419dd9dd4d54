/*
** nn/ops/blas.h: handing strided matrices to OpenBLAS, private to nn/ops/ (linalg.c and
** nnfunc.c). BLAS reads a matrix in place when one of its dims has unit stride: as stored
** (row-major) or as the transpose of a stored matrix; other layouts must be copied first.
*/
#ifndef NN_OPS_BLAS_H
#define NN_OPS_BLAS_H

#include <cblas.h>
#include <limits.h>

#include "nn/tensor.h"

/* How BLAS can read a rows x cols matrix with element strides rs, cs: as stored (leading
   dim rs), or with *trans as the transpose of a row-major cols x rows matrix (leading dim
   cs). False when neither holds. */
static inline bool blas_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, bool *trans,
                               int *ld) {
  int64_t need = cols > 1 ? cols : 1, l = rows == 1 ? need : rs;
  *trans = false, *ld = 0;
  if ((cs == 1 || cols == 1) && l >= need && l <= INT_MAX) {
    *ld = (int)l;
    return true;
  }
  need = rows > 1 ? rows : 1, l = cols == 1 ? need : cs;
  if ((rs == 1 || rows == 1) && l >= need && l <= INT_MAX) {
    *trans = true, *ld = (int)l;
    return true;
  }
  return false;
}

/* c (m x n, dense) = op(a) op(b) + beta c, where op(a) is a^T when ta, a read with leading
   dim lda (b likewise): one sgemm or dgemm for dt f32 or f64. m, n and k must be > 0. */
static inline void blas_gemm(nn_dtype dt, bool ta, bool tb, int m, int n, int k, const void *a,
                             int lda, const void *b, int ldb, double beta, void *c) {
  CBLAS_TRANSPOSE oa = ta ? CblasTrans : CblasNoTrans, ob = tb ? CblasTrans : CblasNoTrans;
  if (dt == NN_F32)
    cblas_sgemm(CblasRowMajor, oa, ob, m, n, k, 1.0f, a, lda, b, ldb, (float)beta, c, n);
  else
    cblas_dgemm(CblasRowMajor, oa, ob, m, n, k, 1.0, a, lda, b, ldb, beta, c, n);
}

#endif
