/*
** tests/c/gradcheck.h: the gradient-check cases (test_gradcheck.c holds the table) and the
** helpers the f64 checks (test_gradcheck.c) and the f32 ones (test_gradcheck_f32.c) share.
*/
#ifndef TEST_GRADCHECK_H
#define TEST_GRADCHECK_H

#include "nn/ops.h"

typedef struct grad_case {
  const char *op;
  int nin;
  int ndim[8];
  int64_t shape[8][4];
  double lo, hi; /* input values drawn uniformly in [lo, hi] */
  nn_attr attr;
  /* what each input is: '1' a float that gets gradients, '0' a u8 mask, 'i' i64 indices
     into the first input along dim i[0] (gather, index_select...), 'c' a float the op
     declares constant (no gradient: cross_entropy's class weights); NULL = all floats */
  const char *differentiable;
} grad_case;

extern const grad_case gc_cases[];
extern const size_t gc_ncases;

/* f64 values uniform in [lo, hi], from the checks' own reproducible sequence */
nn_tensor *gc_random_tensor(int ndim, const int64_t *shape, double lo, double hi);
/* input k of case c, as the case says (floats f64; masks u8; indices i64) */
nn_tensor *gc_make_input(const grad_case *c, int k);
/* the op's outputs in y; 0 or -1 */
int gc_call(const nn_op *op, const grad_case *c, nn_tensor **in, nn_tensor **y);
/* sum over outputs k of sum(y_k * w_k), as a tensor */
nn_tensor *gc_projection(const nn_op *op, nn_tensor **y, nn_tensor **w);
/* that projection's value for inputs in */
double gc_weighted(const nn_op *op, const grad_case *c, nn_tensor **in, nn_tensor **w);
/* sum over outputs of <tangent_k, w_k> */
double gc_tangent_dot(const nn_op *op, nn_tensor **y, nn_tensor **w);

#endif
