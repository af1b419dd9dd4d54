/*
** tests/c/test_recurrent.c: the fused recurrent ops against the same recurrences composed
** of ordinary ops (nn/ops/recurrent_ref.c), forward in f32 and f64 at a size where every
** loop runs several times, and backward when the gradient reaches only one output.
*/
#include <string.h>

#include "nn/autograd.h"
#include "nn/ops/recurrent.h"
#include "test.h"

static uint64_t seed = 2024;

enum { B = 3, T = 7, F = 5, H = 4 };

/* inputs of kind k in dtype dt (every one a leaf that requires grad), of sizes b, t, f, h */
static int make_sized(int kind, nn_dtype dt, nn_tensor **in, int64_t B, int64_t T, int64_t F,
                      int64_t H) {
  int G = kind == LSTM ? 4 : kind == GRU ? 3 : 1, w = kind == LSTM ? 3 : 2, n = w + 4;
  int64_t shapes[8][3] = {{B, T, F}, {B, H}, {B, H}};
  int ndims[8] = {3, 2, 2};
  int64_t ws[4][2] = {{G * H, F}, {G * H, H}, {G * H}, {G * H}};
  for (int k = 0; k < 4; k++)
    shapes[w + k][0] = ws[k][0], shapes[w + k][1] = ws[k][1], ndims[w + k] = k < 2 ? 2 : 1;
  for (int k = 0; k < n; k++) {
    nn_tensor *t = test_random_f64(&seed, ndims[k], shapes[k], -1, 1);
    in[k] = nn_to(t, dt);
    nn_release(t);
    in[k]->requires_grad = true;
  }
  return n;
}

static int make_inputs(int kind, nn_dtype dt, nn_tensor **in) {
  return make_sized(kind, dt, in, B, T, F, H);
}

static double max_diff(nn_tensor *a, nn_tensor *b) {
  double m = 0;
  for (int64_t i = 0; i < nn_numel(a); i++) m = fmax(m, fabs(test_get(a, i) - test_get(b, i)));
  return m;
}

TEST(recurrent_fused_equals_composed) {
  for (int kind = 0; kind < 4; kind++)
    for (int d = 0; d < 2; d++) {
      nn_dtype dt = d ? NN_F64 : NN_F32;
      const nn_op *op = nn_recurrent_op(kind);
      nn_tensor *in[8], *y[3] = {0}, *r[3] = {0};
      int n = make_inputs(kind, dt, in), nout = nn_op_nout(op);
      bool was = nn_set_grad_enabled(false);
      REQUIRE(nn_call_multi(op, n, in, NULL, nout, y) == 0);
      REQUIRE(nn_recurrent_composed(op, in, NULL, r, NULL) == 0);
      nn_set_grad_enabled(was);
      for (int k = 0; k < nout; k++) {
        double m = max_diff(y[k], r[k]);
        if (m > (d ? 1e-12 : 1e-5)) {
          fprintf(stderr, "  %s %s output %d: differs by %g\n", op->name, nn_dtype_name(dt), k + 1,
                  m);
          ++*failures;
        }
      }
      test_release_all(nout, y), test_release_all(nout, r), test_release_all(n, in);
    }
}

/* The gradient of sum(w * out[k]) for one output k only, fused against composed. */
static void one_output(int kind, int k, int *failures) {
  const nn_op *op = nn_recurrent_op(kind);
  nn_tensor *in[8], *y[3] = {0}, *r[3] = {0}, *gy[8], *gr[8];
  int n = make_inputs(kind, NN_F64, in), nout = nn_op_nout(op);
  REQUIRE(nn_call_multi(op, n, in, NULL, nout, y) == 0);
  REQUIRE(nn_recurrent_composed(op, in, NULL, r, NULL) == 0);
  nn_tensor *w = test_random_f64(&seed, y[k]->ndim, y[k]->shape, -1, 1);
  nn_tensor *py = nn_mul(y[k], w), *pr = nn_mul(r[k], w);
  nn_tensor *sy = nn_sum(py, -1, false), *sr = nn_sum(pr, -1, false);
  REQUIRE(nn_grad(1, &sy, NULL, n, in, gy, false) == 0);
  REQUIRE(nn_grad(1, &sr, NULL, n, in, gr, false) == 0);
  for (int j = 0; j < n; j++) {
    double m = gy[j] && gr[j] ? max_diff(gy[j], gr[j]) : 1;
    if (m > 1e-12) {
      fprintf(stderr, "  %s, gradient of output %d only: input %d differs by %g\n", op->name, k + 1,
              j + 1, m);
      ++*failures;
    }
  }
  test_release_all(n, gy), test_release_all(n, gr);
  RELEASE(w, py, pr, sy, sr);
  test_release_all(nout, y), test_release_all(nout, r), test_release_all(n, in);
}

TEST(recurrent_gradient_of_one_output) {
  int64_t live = nn_live_tensors();
  for (int kind = 0; kind < 4; kind++)
    for (int k = 0; k < nn_op_nout(nn_recurrent_op(kind)); k++) one_output(kind, k, failures);
  CHECK(nn_live_tensors() == live);
}

TEST(recurrent_bad_input) {
  nn_tensor *in[8];
  int n = make_inputs(LSTM, NN_F32, in);
  nn_tensor *wrong = nn_zeros(NN_F32, 2, (int64_t[]){B, H + 1}), *keep = in[2], *y[3];
  in[2] = wrong;
  CHECK(nn_call_multi(&nn_op_lstm, n, in, NULL, 3, y) < 0);
  CHECK(strstr(nn_errmsg(), "c0 has shape {3,5}, expected {3,4}"));
  in[2] = keep;
  nn_tensor *x0 = nn_zeros(NN_F32, 3, (int64_t[]){B, 0, F});
  keep = in[0], in[0] = x0;
  CHECK(nn_call_multi(&nn_op_lstm, n, in, NULL, 3, y) < 0 && strstr(nn_errmsg(), "time >= 1"));
  in[0] = keep;
  RELEASE(wrong, x0);
  test_release_all(n, in);
}

static double max_abs(nn_tensor *a) {
  double m = 0;
  for (int64_t i = 0; i < nn_numel(a); i++) m = fmax(m, fabs(test_get(a, i)));
  return m;
}

/* The f32 path (W_hh packed for the CPU's vector kernels, the batch in pieces of rows on the
   pool's threads) against f64 at sizes with tails everywhere: 19 rows (two pieces of 8, then
   3), hidden 37 (panels of 16 or 32, then a partial one). Outputs and every input's gradient
   of sum(w * y) + sum(h_n). */
TEST(recurrent_f32_path_equals_f64) {
  for (int kind = 0; kind < 4; kind++) {
    const nn_op *op = nn_recurrent_op(kind);
    nn_tensor *in[2][8], *y[2][3] = {{0}}, *g[2][8];
    int n = 0, nout = nn_op_nout(op);
    for (int d = 0; d < 2; d++) {
      uint64_t s0 = 77;
      seed = s0; /* the same draws in both dtypes */
      n = make_sized(kind, d ? NN_F64 : NN_F32, in[d], 19, 6, 5, 37);
      REQUIRE(nn_call_multi(op, n, in[d], NULL, nout, y[d]) == 0);
      nn_tensor *sq = nn_mul(y[d][0], y[d][0]), *a = nn_sum(sq, -1, false);
      nn_tensor *b = nn_sum(y[d][1], -1, false), *l = nn_add(a, b);
      REQUIRE(nn_grad(1, &l, NULL, n, in[d], g[d], false) == 0);
      RELEASE(sq, a, b, l);
    }
    for (int k = 0; k < nout + n; k++) {
      nn_tensor *u = k < nout ? y[0][k] : g[0][k - nout], *v = k < nout ? y[1][k] : g[1][k - nout];
      double m = max_diff(u, v) / (1 + max_abs(v)); /* relative to the size of the values */
      if (m > 1e-5) {
        fprintf(stderr, "  %s f32 %s %d: differs from f64 by %g (relative)\n", op->name,
                k < nout ? "output" : "gradient of input", (k < nout ? k : k - nout) + 1, m);
        ++*failures;
      }
    }
    for (int d = 0; d < 2; d++)
      test_release_all(nout, y[d]), test_release_all(n, g[d]), test_release_all(n, in[d]);
  }
}
