/*
** tests/c/test_nnfunc.c: activations, nn functions, losses and optimizer steps, against
** numbers from PyTorch 1.13 (Debian's python3-torch, the script in each comment's spirit:
** the same inputs, printed to 12 digits), bad inputs, and gradient checks of every op here
** in both modes that do not lean on other ops' derivatives (the weighted sum is taken by
** hand, and nn_grad is seeded with the weights).
*/
#include <string.h>

#include "nn/autograd.h"
#include "nn/optim.h"
#include "test.h"

/* sin(freq i + off) * scale, i = 0..n-1: inputs that the PyTorch script makes alike */
static nn_tensor *seq(int ndim, const int64_t *shape, double scale, double off, double freq) {
  nn_tensor *t = nn_empty(NN_F64, ndim, shape);
  double *p = (double *)nn_data(t);
  for (int64_t i = 0; i < nn_numel(t); i++) p[i] = sin(freq * (double)i + off) * scale;
  return t;
}

static nn_tensor *vec(int64_t n, const double *v, nn_dtype dt) {
  return test_tensor(dt, 1, &n, v);
}

/* t's elements (row-major) against want[n] */
static int values_differ(const nn_tensor *t, const double *want, int64_t n, double tol) {
  if (!t) {
    fprintf(stderr, "  no tensor: %s\n", nn_errmsg());
    return 1;
  }
  if (nn_numel(t) != n) {
    fprintf(stderr, "  %lld elements, expected %lld\n", (long long)nn_numel(t), (long long)n);
    return 1;
  }
  for (int64_t i = 0; i < n; i++)
    if (!(fabs(test_get(t, i) - want[i]) <= tol * (1 + fabs(want[i])))) {
      fprintf(stderr, "  element %lld: %.12g, expected %.12g\n", (long long)i + 1, test_get(t, i),
              want[i]);
      return 1;
    }
  return 0;
}
#define CHECK_VALUES(t, tol, ...)                                                                  \
  do {                                                                                             \
    const double want_[] = {__VA_ARGS__};                                                          \
    CHECK(values_differ(t, want_, sizeof want_ / sizeof *want_, tol) == 0);                        \
  } while (0)

/* ======== gradient checks without sum's derivative ======== */

static uint64_t lcg = 987654321;

static double weighted(const nn_op *op, int nin, nn_tensor **in, const nn_attr *a,
                       const nn_tensor *w) {
  nn_tensor *y = nn_calln(op, nin, in, a);
  double v = y ? test_dot(y, w) : NAN;
  nn_release(y);
  return v;
}

/* f = <op(in), w>: its gradient by nn_grad, its directional derivative by forward mode,
   both against central differences, for every f64 input. Returns the failures. */
static int gradcheck(const nn_op *op, int nin, nn_tensor **in, const nn_attr *a) {
  int bad = 0;
  nn_tensor *y0 = nn_calln(op, nin, in, a);
  if (!y0) {
    fprintf(stderr, "  %s: %s\n", op->name, nn_errmsg());
    return 1;
  }
  nn_tensor *w = test_random_f64(&lcg, y0->ndim, y0->shape, -1, 1);
  for (int k = 0; k < nin; k++) {
    nn_tensor *x = in[k];
    if (x->dtype != NN_F64) continue;
    x->requires_grad = true;
    nn_tensor *y = nn_calln(op, nin, in, a), *g = NULL;
    if (!y || nn_grad(1, &y, &w, 1, &x, &g, false) < 0) {
      fprintf(stderr, "  %s: backward: %s\n", op->name, nn_errmsg());
      bad++;
    }
    x->requires_grad = false;
    nn_release(y);
    nn_tensor *v = test_random_f64(&lcg, x->ndim, x->shape, -1, 1);
    x->tangent = nn_retain(v);
    nn_fwd_enter();
    nn_tensor *yt = nn_calln(op, nin, in, a);
    nn_fwd_leave();
    nn_release(x->tangent);
    x->tangent = NULL;
    double fd_dir = 0, jvp = yt && yt->tangent ? test_dot(yt->tangent, w) : NAN;
    for (int64_t i = 0; i < nn_numel(x); i++) {
      double *p = (double *)test_at(x, i), keep = *p, eps = 1e-6;
      *p = keep + eps;
      double up = weighted(op, nin, in, a, w);
      *p = keep - eps;
      double down = weighted(op, nin, in, a, w);
      *p = keep;
      double fd = (up - down) / (2 * eps), an = g ? test_get(g, i) : 0;
      fd_dir += fd * test_get(v, i);
      if (!test_grad_close(an, fd)) {
        fprintf(stderr, "  %s: input %d element %lld: backward %g, finite differences %g\n",
                op->name, k + 1, (long long)i + 1, an, fd);
        bad++;
        break;
      }
    }
    if (!test_grad_close(jvp, fd_dir)) {
      fprintf(stderr, "  %s: input %d: jvp %g, finite differences %g\n", op->name, k + 1, jvp,
              fd_dir);
      bad++;
    }
    nn_release(g), nn_release(v), nn_release(yt);
  }
  nn_release(y0), nn_release(w);
  return bad;
}

/* u8 or i64 class indices from a list */
static nn_tensor *classes(int64_t n, const int64_t *v, nn_dtype dt) {
  nn_tensor *t = nn_empty(dt, 1, &n);
  for (int64_t i = 0; i < n; i++)
    nn_store(nn_data(t) + i * (int64_t)nn_dtype_size(dt), dt, (double)v[i]);
  return t;
}

TEST(nnfunc_activation_values) {
  const double xs[] = {-2.5, -0.7, 0.0, 0.3, 1.9, 25.0};
  for (int d = 0; d < 2; d++) {
    nn_dtype dt = d ? NN_F32 : NN_F64;
    double tol = d ? 2e-6 : 1e-10;
    nn_tensor *x = vec(LEN(xs), xs, dt), *y;
#define ACT(call, ...)                                                                             \
  y = call;                                                                                        \
  CHECK(y && y->dtype == dt);                                                                      \
  CHECK_VALUES(y, tol, __VA_ARGS__);                                                               \
  nn_release(y);
    ACT(nn_leaky_relu(x, 0.1), -0.25, -0.07, 0, 0.3, 1.9, 25);
    ACT(nn_elu(x, 1.5), -1.37687250206, -0.755122044313, 0, 0.3, 1.9, 25);
    ACT(nn_gelu(x), -0.0155241633144, -0.169374556556, 0, 0.185373426657, 1.84543853635, 25);
    ACT(nn_gelu_tanh(x), -0.01508426609, -0.169429865295, 0, 0.185370923543, 1.84545123446, 25);
    ACT(nn_silu(x, 1), -0.189645450053, -0.232268559482, 0, 0.172332755043, 1.65279389871,
        24.9999999997);
    ACT(nn_silu(x, 2), -0.0167321273107, -0.138471278009, 0, 0.193696891868, 1.85842558522, 25);
    ACT(nn_mish(x), -0.196816203907, -0.267870234796, 0, 0.208001372348, 1.83674360055, 25);
    ACT(nn_softplus(x, 2, 20), 0.00335767424456, 0.110208704959, 0.34657359028, 0.518743975243,
        1.91106210823, 25);
    ACT(nn_hardtanh(x, -1, 2), -1, -0.7, 0, 0.3, 1.9, 2);
    ACT(nn_relu2(x), 0, 0, 0, 0.09, 3.61, 625);
    /* smelu(beta = 1): 0 below -1, (x+1)^2/4 between, x above */
    ACT(nn_smelu(x, 1), 0, 0.0225, 0.25, 0.4225, 1.9, 25);
    /* snake(a = 2): x + sin^2(2x)/2 */
    ACT(nn_snake(x, 2), -2.5 + 0.5 * pow(sin(-5.0), 2), -0.7 + 0.5 * pow(sin(-1.4), 2), 0,
        0.3 + 0.5 * pow(sin(0.6), 2), 1.9 + 0.5 * pow(sin(3.8), 2), 25 + 0.5 * pow(sin(50.0), 2));
#undef ACT
    nn_release(x);
  }
  nn_tensor *x = nn_scalar(NN_F32, 1);
  CHECK(!nn_smelu(x, 0) && strstr(nn_errmsg(), "beta"));
  CHECK(!nn_snake(x, 0) && strstr(nn_errmsg(), "frequency"));
  CHECK(!nn_hardtanh(x, 2, 1) && strstr(nn_errmsg(), "above"));
  nn_tensor *i = nn_scalar(NN_I64, 2), *y = nn_gelu(i); /* integers compute in f32 */
  CHECK(y && y->dtype == NN_F32);
  nn_release(y), nn_release(i), nn_release(x);
}

TEST(nnfunc_activation_gradients) {
  static const struct {
    const nn_op *op;
    double a0, a1;
  } acts[] = {{&nn_op_leaky_relu, 0.1, 0}, {&nn_op_elu, 1.5, 0},     {&nn_op_gelu, 0, 0},
              {&nn_op_gelu_tanh, 0, 0},    {&nn_op_silu, 1.5, 0},    {&nn_op_mish, 0, 0},
              {&nn_op_softplus, 2, 3},     {&nn_op_hardtanh, -1, 2}, {&nn_op_relu2, 0, 0},
              {&nn_op_smelu, 1, 0},        {&nn_op_snake, 1.5, 0}};
  for (size_t k = 0; k < sizeof acts / sizeof *acts; k++) {
    nn_tensor *x = test_random_f64(&lcg, 2, (int64_t[]){4, 5}, -3, 3);
    nn_attr a = {.f = {acts[k].a0, acts[k].a1}};
    *failures += gradcheck(acts[k].op, 1, &x, &a);
    nn_release(x);
  }
}

/* ======== linear ======== */

TEST(nnfunc_linear_values_and_grads) {
  nn_tensor *x = seq(2, (int64_t[]){3, 4}, 2, 0.5, 1.3),
            *w = seq(2, (int64_t[]){5, 4}, 1, 0.1, 0.9);
  nn_tensor *b = seq(1, (int64_t[]){5}, 0.5, 0.3, 2.1);
  nn_tensor *y = nn_linear(x, w, b), *y0 = nn_linear(x, w, NULL);
  CHECK(y && y->ndim == 2 && y->shape[0] == 3 && y->shape[1] == 5);
  CHECK_VALUES(y, 1e-10, 1.32355926462, -2.38620022192, 3.22085333609, -3.77356054012,
               3.66918790768, 2.73413254421, -1.69807806363, 0.57612138268, 0.281688577934,
               -0.9592376928, 1.39547815553, 1.15404187757, -3.20054935197, 4.20309117078,
               -4.21566851608);
  CHECK_VALUES(y0, 1e-10, 1.17579916129, -2.72393181219, 3.70961839492, -3.92933122187,
               3.33770329264, 2.58637244088, -2.03580965391, 1.06488644151, 0.125917896178,
               -1.29072230784, 1.2477180522, 0.816310287292, -2.71178429314, 4.04732048902,
               -4.54715313112);
  /* backward against PyTorch */
  nn_tensor *g = seq(2, (int64_t[]){3, 5}, 1, 0.2, 0.4), *grads[3] = {0};
  nn_tensor *in[3] = {x, w, b};
  for (int k = 0; k < 3; k++) in[k]->requires_grad = true;
  nn_tensor *yr = nn_linear(x, w, b);
  REQUIRE(yr && nn_grad(1, &yr, &g, 3, in, grads, false) == 0);
  CHECK_VALUES(grads[0], 1e-10, 0.365776537558, 0.00944878538012, -0.354029619197, -0.449585466092,
               -0.39005071614, 0.29259189932, 0.753806798645, 0.644555741056, -0.0411397943282,
               -0.252971171982, -0.273359010051, -0.0868741991457);
  CHECK_VALUES(grads[1], 1e-10, 1.03523598292, 2.07373784582, 0.0742089063464, -2.03403625478,
               1.95196183775, 2.48904488583, -0.620328655046, -2.820919263, 2.56051583815,
               2.51138646749, -1.2169299616, -3.16244114598, 2.76482068835, 2.13723534632,
               -1.62140478508, -3.00468310779, 2.53262114474, 1.42566175751, -1.76989544445,
               -2.37255167386);
  CHECK_VALUES(grads[2], 1e-10, 0.135589962201, 0.086452841583, 0.0236667182046, -0.0428558595944,
               -0.102612439478);
  for (int k = 0; k < 3; k++) in[k]->requires_grad = false;
  test_release_all(3, grads);
  nn_release(yr), nn_release(g);
  /* f32 gives the same numbers, to f32 precision */
  nn_tensor *xf = nn_to(x, NN_F32), *wf = nn_to(w, NN_F32), *bf = nn_to(b, NN_F32);
  nn_tensor *yf = nn_linear(xf, wf, bf);
  CHECK(yf && yf->dtype == NN_F32);
  for (int64_t i = 0; yf && i < 15; i++) CHECK_NEAR(test_get(yf, i), test_get(y, i), 1e-5);
  RELEASE(xf, wf, bf, yf);
  /* strided operands: a transposed weight and a column slice of the input are read in
     place or copied, and give the same result */
  nn_tensor *wt = nn_transpose(w, 0, 1), *wtc = nn_contiguous(wt), *wv = nn_transpose(wtc, 0, 1);
  nn_tensor *wide = seq(2, (int64_t[]){3, 6}, 2, 0.5, 1.3), *xs = nn_narrow(wide, 1, 1, 4);
  nn_tensor *xsc = nn_contiguous(xs), *y1 = nn_linear(wv ? x : NULL, wv, b);
  nn_tensor *y2 = nn_linear(xs, w, b), *y3 = nn_linear(xsc, w, b);
  CHECK(y1 && y2 && y3);
  for (int64_t i = 0; y1 && i < 15; i++) CHECK_NEAR(test_get(y1, i), test_get(y, i), 1e-12);
  for (int64_t i = 0; y2 && y3 && i < 15; i++) CHECK_NEAR(test_get(y2, i), test_get(y3, i), 1e-12);
  RELEASE(wt, wtc, wv, wide, xs, xsc, y1, y2);
  nn_release(y3);
  /* 3-D input: the leading dims fold into rows; 1-D input: one row */
  nn_tensor *x3 = seq(3, (int64_t[]){2, 3, 4}, 1, 0, 0.7), *y4 = nn_linear(x3, w, b);
  CHECK(y4 && y4->ndim == 3 && y4->shape[0] == 2 && y4->shape[1] == 3 && y4->shape[2] == 5);
  nn_tensor *x1 = nn_select(x, 0, 1), *y5 = nn_linear(x1, w, b);
  CHECK(y5 && y5->ndim == 1 && y5->shape[0] == 5);
  for (int64_t i = 0; y5 && i < 5; i++) CHECK_NEAR(test_get(y5, i), test_get(y, 5 + i), 1e-12);
  RELEASE(x3, y4, x1, y5);
  nn_release(y), nn_release(y0), nn_release(x), nn_release(w), nn_release(b);
}

TEST(nnfunc_linear_errors) {
  nn_tensor *x = nn_zeros(NN_F32, 2, (int64_t[]){2, 784}),
            *w = nn_zeros(NN_F32, 2, (int64_t[]){10, 785});
  nn_tensor *w2 = nn_zeros(NN_F32, 2, (int64_t[]){10, 784}),
            *b = nn_zeros(NN_F32, 1, (int64_t[]){11});
  nn_tensor *wd = nn_zeros(NN_F64, 2, (int64_t[]){10, 784}),
            *w1 = nn_zeros(NN_F32, 1, (int64_t[]){784});
  CHECK(!nn_linear(x, w, NULL) &&
        strstr(nn_errmsg(), "input has 784 features but weight expects 785"));
  CHECK(!nn_linear(x, w2, b) && strstr(nn_errmsg(), "bias has shape {11}") &&
        strstr(nn_errmsg(), "10 outputs"));
  CHECK(!nn_linear(x, wd, NULL) && strstr(nn_errmsg(), "f64") && strstr(nn_errmsg(), "f32"));
  CHECK(!nn_linear(x, w1, NULL) && strstr(nn_errmsg(), "2-D"));
  nn_tensor *xi = nn_zeros(NN_I64, 2, (int64_t[]){2, 784});
  CHECK(!nn_linear(xi, w2, NULL));
  /* empty batch and zero features */
  nn_tensor *x0 = nn_zeros(NN_F32, 2, (int64_t[]){0, 784}), *y0 = nn_linear(x0, w2, NULL);
  CHECK(y0 && y0->shape[0] == 0 && y0->shape[1] == 10);
  nn_tensor *xe = nn_zeros(NN_F32, 2, (int64_t[]){2, 0}),
            *we = nn_zeros(NN_F32, 2, (int64_t[]){3, 0});
  nn_tensor *be = nn_full(NN_F32, 1, (int64_t[]){3}, 2), *ye = nn_linear(xe, we, be);
  CHECK_VALUES(ye, 0, 2, 2, 2, 2, 2, 2);
  RELEASE(x, w, w2, b, wd, w1, xi, x0, y0, xe, we, be, ye);
}

TEST(nnfunc_linear_gradients) {
  nn_tensor *in[3] = {test_random_f64(&lcg, 3, (int64_t[]){2, 3, 4}, -2, 2),
                      test_random_f64(&lcg, 2, (int64_t[]){5, 4}, -2, 2),
                      test_random_f64(&lcg, 1, (int64_t[]){5}, -2, 2)};
  *failures += gradcheck(&nn_op_linear, 3, in, NULL);
  *failures += gradcheck(&nn_op_linear_nobias, 2, in, NULL);
  /* a transposed weight view */
  nn_tensor *wt = test_random_f64(&lcg, 2, (int64_t[]){4, 5}, -2, 2), *w = nn_transpose(wt, 0, 1);
  nn_tensor *in2[3] = {in[0], w, in[2]};
  *failures += gradcheck(&nn_op_linear, 3, in2, NULL);
  test_release_all(3, in);
  nn_release(wt), nn_release(w);
}

/* ======== softmax and log_softmax ======== */

TEST(nnfunc_softmax_values) {
  nn_tensor *x = seq(2, (int64_t[]){3, 4}, 2, 0.5, 1.3);
  nn_tensor *s1 = nn_softmax(x, 1), *s0 = nn_softmax(x, 0), *l1 = nn_log_softmax(x, 1);
  nn_tensor *l0 = nn_log_softmax(x, 0);
  CHECK_VALUES(s1, 1e-10, 0.240277676391, 0.645896596777, 0.100093573871, 0.0137321529606,
               0.0306798459801, 0.343418643846, 0.560775534662, 0.0651259755118, 0.013064828021,
               0.0467277252845, 0.477404956087, 0.462802490608);
  CHECK_VALUES(s0, 1e-10, 0.847615777103, 0.62489399599, 0.0894169889782, 0.0261895192053,
               0.108007997755, 0.331576968313, 0.499942474141, 0.12395392026, 0.0443762251422,
               0.0435290356967, 0.410640536881, 0.849856560535);
  CHECK_VALUES(l1, 1e-10, -1.42596003947, -0.437115854921, -2.30164979181, -4.28801526446,
               -3.4841493227, -1.06880504007, -0.578434569995, -2.73143179995, -4.33783154343,
               -3.06341760129, -0.739390183718, -0.77045490207);
  CHECK_VALUES(l0, 1e-10, -0.165327838907, -0.470173250047, -2.41444458154, -3.64239597858,
               -2.22555000131, -1.10389531437, -0.693262238897, -2.08784539325, -3.11505142273,
               -3.13432707628, -0.890037053306, -0.16268769605);
  /* large logits stay finite */
  nn_tensor *big = nn_full(NN_F32, 1, (int64_t[]){3}, 1000), *sb = nn_softmax(big, 0);
  CHECK_VALUES(sb, 1e-6, 1.0 / 3, 1.0 / 3, 1.0 / 3);
  CHECK(!nn_softmax(x, 2) && strstr(nn_errmsg(), "out of range"));
  nn_tensor *xi = nn_zeros(NN_I64, 1, (int64_t[]){3});
  CHECK(!nn_softmax(xi, 0));
  RELEASE(x, s1, s0, l1, l0, big, sb, xi);
}

/* Wide lanes, contiguous (dim 2) and strided (dim 1), f32 and f64, against a plain f64
   computation: lanes longer than the 8 running parts, with the maximum in the parts or in
   the tail and a masked (-inf) logit. */
TEST(nnfunc_softmax_wide_lanes) {
  enum { N = 37 };
  for (int dt = 0; dt < 2; dt++)
    for (int dim = 0; dim < 2; dim++) {
      int64_t shape[2] = {dim ? 3 : N, dim ? N : 3};
      nn_tensor *x64 = test_random_f64(&lcg, 2, shape, -5, 5),
                *x = nn_to(x64, dt ? NN_F64 : NN_F32);
      REQUIRE(x);
      nn_store(nn_at(x, (int64_t[]){dim ? 0 : 35, dim ? 35 : 0}), x->dtype,
               9);                                                            /* max in the tail */
      nn_store(nn_at(x, (int64_t[]){dim ? 1 : 3, dim ? 3 : 1}), x->dtype, 9); /* ... in a part */
      nn_store(nn_at(x, (int64_t[]){dim ? 2 : 5, dim ? 5 : 2}), x->dtype, -INFINITY);
      nn_tensor *s = nn_softmax(x, dim), *l = nn_log_softmax(x, dim);
      REQUIRE(s && l);
      double worst = 0;
      for (int lane = 0; lane < 3; lane++) {
        double v[N], top = -INFINITY, sum = 0;
        for (int k = 0; k < N; k++) {
          v[k] = nn_load(nn_at(x, (int64_t[]){dim ? lane : k, dim ? k : lane}), x->dtype);
          top = fmax(top, v[k]);
        }
        for (int k = 0; k < N; k++) sum += exp(v[k] - top);
        for (int k = 0; k < N; k++) {
          int64_t at[2] = {dim ? lane : k, dim ? k : lane};
          double want = exp(v[k] - top) / sum, got = nn_load(nn_at(s, at), s->dtype);
          double lwant = v[k] - top - log(sum), lgot = nn_load(nn_at(l, at), l->dtype);
          worst = fmax(worst, fabs(got - want) / (want + 1e-30));
          if (isinf(lwant))
            CHECK(lgot == lwant);
          else
            worst = fmax(worst, fabs(lgot - lwant) / (fabs(lwant) + 1));
        }
      }
      CHECK(worst < (dt ? 1e-12 : 2e-6));
      RELEASE(x64, x, s, l);
    }
}

TEST(nnfunc_softmax_gradients) {
  for (int d = 0; d < 3; d++) {
    nn_tensor *x = test_random_f64(&lcg, 3, (int64_t[]){2, 3, 4}, -2, 2);
    nn_attr a = {.i = {d}};
    *failures += gradcheck(&nn_op_softmax, 1, &x, &a);
    *failures += gradcheck(&nn_op_log_softmax, 1, &x, &a);
    nn_release(x);
  }
}

/* ======== normalization ======== */

TEST(nnfunc_layer_norm) {
  nn_tensor *x = seq(2, (int64_t[]){3, 4}, 2, 0.5, 1.3), *w = seq(1, (int64_t[]){4}, 0.5, 1.0, 0.3);
  nn_tensor *one = nn_scalar(NN_F64, 1), *w1 = nn_add(w, one),
            *b = seq(1, (int64_t[]){4}, 0.2, 0.7, 1.1);
  nn_tensor *y = nn_layer_norm(x, 4, w1, b, 1e-5), *yp = nn_layer_norm(x, 4, NULL, NULL, 1e-5);
  CHECK_VALUES(y, 1e-9, 0.817221797858, 1.94578626118, -0.151434876758, -2.41020921115,
               -1.69100512143, 1.31588611642, 1.80299864867, -1.10293752822, -1.81745863176,
               -0.609140474275, 1.49711212912, 1.24245135567);
  CHECK_VALUES(yp, 1e-9, 0.484522463253, 1.18169890749, -0.132875380953, -1.53334598979,
               -1.28092010695, 0.75660170653, 1.1702655211, -0.645947120687, -1.36992577409,
               -0.542530262713, 0.966312186376, 0.946143850424);
  CHECK(!nn_layer_norm(x, 5, NULL, NULL, 1e-5) && strstr(nn_errmsg(), "normalized size 5"));
  nn_tensor *b3 = nn_zeros(NN_F64, 1, (int64_t[]){3});
  CHECK(!nn_layer_norm(x, 4, NULL, b3, 1e-5) && strstr(nn_errmsg(), "bias has shape {3}"));
  RELEASE(x, w, one, w1, b, y, yp, b3);
  nn_tensor *in[3] = {test_random_f64(&lcg, 3, (int64_t[]){2, 3, 4}, -2, 2),
                      test_random_f64(&lcg, 1, (int64_t[]){4}, -2, 2),
                      test_random_f64(&lcg, 1, (int64_t[]){4}, -2, 2)};
  nn_attr a = {.f = {1e-5}};
  *failures += gradcheck(&nn_op_layer_norm, 3, in, &a);
  test_release_all(3, in);
}

TEST(nnfunc_batch_norm) {
  nn_tensor *x = seq(2, (int64_t[]){3, 4}, 2, 0.5, 1.3), *w = seq(1, (int64_t[]){4}, 0.5, 1.0, 0.3);
  nn_tensor *one = nn_scalar(NN_F64, 1), *w1 = nn_add(w, one),
            *b = seq(1, (int64_t[]){4}, 0.2, 0.7, 1.1);
  nn_tensor *rm = nn_zeros(NN_F64, 1, (int64_t[]){4}), *rv = nn_full(NN_F64, 1, (int64_t[]){4}, 1);
  nn_tensor *y = nn_batch_norm(x, w1, b, rm, rv, true, 0.1, 1e-5);
  CHECK_VALUES(y, 1e-9, 2.04930344852, 1.62819846833, -2.06155232652, -1.8882551464,
               -0.319928238539, 0.801852439775, 1.294385378, -0.279225498808, -1.34284459764,
               -1.84574232958, 0.910716546051, 1.71339914802);
  CHECK_VALUES(rm, 1e-10, -0.07111308382, 0.084840329824, 0.116502461516, -0.0225117858491);
  CHECK_VALUES(rv, 1e-10, 1.1289432893, 1.09369954007, 0.988750121606, 1.20385382355);
  nn_tensor *ye = nn_batch_norm(x, w1, b, rm, rv, false, 0.1, 1e-5);
  CHECK_VALUES(ye, 1e-9, 1.50604462345, 2.83420773037, -0.00243814505115, -2.67644584659,
               -1.24875045275, 1.93630086778, 2.59359921586, -0.589250202859, -2.43813389921,
               -0.940573263183, 2.29680627462, 1.99553590638);
  nn_tensor *x1 = nn_narrow(x, 0, 0, 1);
  CHECK(!nn_batch_norm(x1, NULL, NULL, rm, rv, true, 0.1, 1e-5) &&
        strstr(nn_errmsg(), "more than 1 value"));
  nn_tensor *rm3 = nn_zeros(NN_F64, 1, (int64_t[]){3});
  CHECK(!nn_batch_norm(x, NULL, NULL, rm3, rv, true, 0.1, 1e-5) &&
        strstr(nn_errmsg(), "running_mean has shape {3}"));
  RELEASE(x, w, one, w1, b, rm, rv, y, ye, x1, rm3);
  nn_tensor *in[3] = {test_random_f64(&lcg, 2, (int64_t[]){5, 3}, -2, 2),
                      test_random_f64(&lcg, 1, (int64_t[]){3}, -2, 2),
                      test_random_f64(&lcg, 1, (int64_t[]){3}, -2, 2)};
  nn_attr a = {.f = {1e-5}};
  *failures += gradcheck(&nn_op_batch_norm, 3, in, &a);
  test_release_all(3, in);
}

TEST(nnfunc_dropout) {
  nn_manual_seed(7);
  nn_tensor *x = nn_full(NN_F32, 1, (int64_t[]){10000}, 2);
  nn_tensor *y = nn_dropout(x, 0.25, true);
  REQUIRE(y);
  int64_t kept = 0;
  for (int64_t i = 0; i < 10000; i++) {
    double v = test_get(y, i);
    CHECK(v == 0 || fabs(v - 2 / 0.75) < 1e-6);
    kept += v != 0;
  }
  CHECK(kept > 7200 && kept < 7800);
  nn_tensor *ye = nn_dropout(x, 0.25, false), *y0 = nn_dropout(x, 0, true),
            *y1 = nn_dropout(x, 1, true);
  CHECK(ye == x && y0 == x);
  CHECK(y1 && test_get(y1, 0) == 0 && test_get(y1, 9999) == 0);
  CHECK(!nn_dropout(x, 1.5, true) && strstr(nn_errmsg(), "[0, 1]"));
  /* the backward is the same mask: x requires grad, gradient = mask */
  x->requires_grad = true;
  nn_tensor *yg = nn_dropout(x, 0.5, true), *g = NULL,
            *ones = nn_full(NN_F32, 1, (int64_t[]){10000}, 1);
  REQUIRE(yg && nn_grad(1, &yg, &ones, 1, &x, &g, false) == 0);
  for (int64_t i = 0; i < 10000; i++) CHECK(test_get(g, i) * 2 == test_get(yg, i));
  x->requires_grad = false;
  RELEASE(x, y, ye, y0, y1, yg, g, ones);
}

TEST(nnfunc_embedding) {
  nn_tensor *w = seq(2, (int64_t[]){4, 3}, 1, 0, 0.5);
  nn_tensor *idx = nn_empty(NN_I64, 2, (int64_t[]){2, 2});
  int64_t *ip = (int64_t *)nn_data(idx);
  ip[0] = 3, ip[1] = 0, ip[2] = 3, ip[3] = 1;
  nn_tensor *y = nn_embedding(idx, w, -1);
  REQUIRE(y && y->ndim == 3 && y->shape[2] == 3);
  for (int64_t i = 0; i < 4; i++)
    for (int64_t j = 0; j < 3; j++) CHECK(test_get(y, 3 * i + j) == test_get(w, 3 * ip[i] + j));
  ip[2] = 4;
  CHECK(!nn_embedding(idx, w, -1) && strstr(nn_errmsg(), "index 5 is out of range for 4"));
  ip[2] = -1;
  CHECK(!nn_embedding(idx, w, -1) && strstr(nn_errmsg(), "index 0 is out of range"));
  ip[2] = 3;
  nn_tensor *fidx = nn_zeros(NN_F32, 1, (int64_t[]){2});
  CHECK(!nn_embedding(fidx, w, -1) && strstr(nn_errmsg(), "integers"));
  /* repeated rows accumulate their gradients */
  nn_tensor *in[2] = {idx, w};
  *failures += gradcheck(&nn_op_embedding, 2, in, NULL);
  RELEASE(w, idx, y, fidx);
}

/* ======== losses ======== */

TEST(nnfunc_cross_entropy_values) {
  nn_tensor *l = seq(2, (int64_t[]){4, 3}, 3, 0.9, 1.7);
  nn_tensor *t = classes(4, (int64_t[]){2, 0, 1, 1}, NN_I64);
  nn_tensor *ti = classes(4, (int64_t[]){2, -100, 1, 1}, NN_I64);
  nn_tensor *tu = classes(4, (int64_t[]){2, 0, 1, 1}, NN_U8);
  nn_tensor *r[8] = {nn_cross_entropy(l, t, NULL, NN_REDUCE_MEAN, 0, -100),
                     nn_cross_entropy(l, t, NULL, NN_REDUCE_SUM, 0, -100),
                     nn_cross_entropy(l, t, NULL, NN_REDUCE_NONE, 0, -100),
                     nn_cross_entropy(l, t, NULL, NN_REDUCE_MEAN, 0.2, -100),
                     nn_cross_entropy(l, ti, NULL, NN_REDUCE_MEAN, 0.2, -100),
                     nn_cross_entropy(l, tu, NULL, NN_REDUCE_MEAN, 0, -100),
                     nn_nll_loss(l, ti, NULL, NN_REDUCE_SUM, -100),
                     NULL};
  nn_tensor *lp = nn_log_softmax(l, 1);
  r[7] = nn_nll_loss(lp, t, NULL, NN_REDUCE_MEAN, -100);
  CHECK(r[0] && r[0]->ndim == 0);
  CHECK_VALUES(r[0], 1e-10, 4.02620954556);
  CHECK_VALUES(r[1], 1e-10, 16.1048381823);
  CHECK_VALUES(r[2], 1e-10, 5.47271133201, 3.87774326999, 2.2273004307, 4.52708314956);
  CHECK_VALUES(r[3], 1e-10, 3.72540387133);
  CHECK_VALUES(r[4], 1e-10, 3.77940904882);
  CHECK_VALUES(r[5], 1e-10, 4.02620954556);
  CHECK_VALUES(r[6], 1e-10, 4.49343966993);
  CHECK_VALUES(r[7], 1e-10, 4.02620954556);
  /* the gradient of label-smoothed, partly ignored cross-entropy against PyTorch */
  l->requires_grad = true;
  nn_tensor *loss = nn_cross_entropy(l, ti, NULL, NN_REDUCE_MEAN, 0.2, -100), *g = NULL;
  REQUIRE(loss && nn_grad(1, &loss, NULL, 1, &l, &g, false) == 0);
  CHECK_VALUES(g, 1e-10, 0.207050035893, 0.0804389098044, -0.287488945697, 0, 0, 0,
               -0.0213140712818, -0.252949187971, 0.274263259253, -0.0122054068647, -0.285284833023,
               0.297490239888);
  l->requires_grad = false;
  /* f32 logits */
  nn_tensor *lf = nn_to(l, NN_F32), *rf = nn_cross_entropy(lf, t, NULL, NN_REDUCE_MEAN, 0, -100);
  CHECK(rf && rf->dtype == NN_F32);
  CHECK_VALUES(rf, 1e-6, 4.02620954556);
  test_release_all(8, r);
  RELEASE(l, t, ti, tu, lp, loss, g, lf, rf);
}

TEST(nnfunc_cross_entropy_errors) {
  nn_tensor *l = nn_zeros(NN_F32, 2, (int64_t[]){2, 10});
  nn_tensor *t = classes(2, (int64_t[]){3, 10}, NN_I64),
            *tneg = classes(2, (int64_t[]){-1, 0}, NN_I64);
  nn_tensor *t3 = classes(3, (int64_t[]){1, 2, 3}, NN_I64),
            *tf = nn_zeros(NN_F32, 1, (int64_t[]){2});
  CHECK(!nn_cross_entropy(l, t, NULL, NN_REDUCE_MEAN, 0, -100) &&
        strstr(nn_errmsg(), "target 11 is out of range for 10 classes"));
  CHECK(!nn_cross_entropy(l, tneg, NULL, NN_REDUCE_MEAN, 0, -100) &&
        strstr(nn_errmsg(), "target 0 is out of range"));
  CHECK(!nn_cross_entropy(l, t3, NULL, NN_REDUCE_MEAN, 0, -100) && strstr(nn_errmsg(), "{3}"));
  CHECK(!nn_cross_entropy(l, tf, NULL, NN_REDUCE_MEAN, 0, -100) && strstr(nn_errmsg(), "i64"));
  CHECK(!nn_cross_entropy(l, tneg, NULL, NN_REDUCE_MEAN, 1.5, -100) &&
        strstr(nn_errmsg(), "label_smoothing"));
  CHECK(!nn_cross_entropy(l, tneg, NULL, (nn_reduction)7, 0, -100) &&
        strstr(nn_errmsg(), "reduction"));
  /* an ignored target may be anything */
  nn_tensor *ok = nn_cross_entropy(l, tneg, NULL, NN_REDUCE_SUM, 0, -1);
  CHECK(ok);
  CHECK(nn_reduction_parse("sum") == NN_REDUCE_SUM && nn_reduction_parse("avg") < 0);
  RELEASE(l, t, tneg, t3, tf, ok);
}

TEST(nnfunc_loss_gradients) {
  for (int red = 0; red < 3; red++)
    for (int ce = 0; ce < 2; ce++) {
      nn_tensor *x = test_random_f64(&lcg, 2, (int64_t[]){4, 3}, -2, 2);
      nn_tensor *t = classes(4, (int64_t[]){2, 0, 1, 0}, red == 1 ? NN_U8 : NN_I64);
      nn_tensor *in[2] = {x, t};
      nn_attr a = {.i = {red, red == 2 ? 0 : -100}, .f = {ce ? 0.15 : 0}};
      *failures += gradcheck(ce ? &nn_op_cross_entropy : &nn_op_nll_loss, 2, in, &a);
      nn_release(x), nn_release(t);
    }
  nn_tensor *x1 = test_random_f64(&lcg, 1, (int64_t[]){5}, -2, 2), *t0 = nn_scalar(NN_I64, 3);
  nn_tensor *in1[2] = {x1, t0};
  nn_attr a = {.i = {0, -100}};
  *failures += gradcheck(&nn_op_cross_entropy, 2, in1, &a);
  nn_tensor *bx = test_random_f64(&lcg, 2, (int64_t[]){3, 4}, -3, 3),
            *by = test_random_f64(&lcg, 2, (int64_t[]){3, 4}, 0, 1);
  nn_tensor *bin[2] = {bx, by};
  *failures += gradcheck(&nn_op_bce_with_logits, 2, bin, NULL);
  RELEASE(x1, t0, bx, by);
}

TEST(nnfunc_other_losses) {
  nn_tensor *l = seq(2, (int64_t[]){4, 3}, 3, 0.9, 1.7),
            *y = seq(2, (int64_t[]){4, 3}, 1, 0.2, 0.5);
  nn_tensor *yb = seq(2, (int64_t[]){4, 3}, 1, 0.3, 2.3), *zero = nn_scalar(NN_F64, 0);
  nn_tensor *m = nn_gt(yb, zero), *mb = nn_to(m, NN_F64);
  nn_tensor *mse = nn_mse_loss(l, y, NN_REDUCE_MEAN), *l1 = nn_l1_loss(l, y, NN_REDUCE_SUM);
  nn_tensor *bce = nn_bce_with_logits(l, mb, NN_REDUCE_MEAN),
            *bn = nn_bce_with_logits(l, mb, NN_REDUCE_NONE);
  CHECK_VALUES(mse, 1e-10, 5.00158576306);
  CHECK_VALUES(l1, 1e-10, 23.4689538893);
  CHECK_VALUES(bce, 1e-10, 1.17709762513);
  CHECK_VALUES(bn, 1e-10, 0.0910931187643, 0.193089430193, 0.0620579143028, 1.197645461,
               3.0148042151, 0.731000709265, 3.03302622345, 1.09953403077, 2.86345001182,
               1.634291455, 0.0836119695382, 0.121566962358);
  /* stable for large logits */
  nn_tensor *big = nn_full(NN_F32, 1, (int64_t[]){2}, 200), *tb = vec(2, (double[]){1, 0}, NN_F32);
  nn_tensor *bb = nn_bce_with_logits(big, tb, NN_REDUCE_NONE);
  CHECK_VALUES(bb, 1e-6, 0, 200);
  nn_tensor *y3 = nn_zeros(NN_F64, 1, (int64_t[]){3});
  CHECK(!nn_mse_loss(l, y3, NN_REDUCE_MEAN) && strstr(nn_errmsg(), "does not match"));
  CHECK(!nn_bce_with_logits(l, y3, NN_REDUCE_MEAN) && strstr(nn_errmsg(), "does not match"));
  RELEASE(l, y, yb, zero, m, mb, mse, l1, bce, bn, big, tb, bb, y3, NULL);
}

/* ======== optimizers: three steps against PyTorch ======== */

typedef int (*step_fn)(nn_tensor *p, nn_tensor *g, nn_tensor **state, const void *opts,
                       int64_t step);

static int sgd_step(nn_tensor *p, nn_tensor *g, nn_tensor **s, const void *o, int64_t step) {
  return nn_sgd_step(p, g, s[0], o, step);
}
static int adam_step(nn_tensor *p, nn_tensor *g, nn_tensor **s, const void *o, int64_t step) {
  return nn_adam_step(p, g, s[0], s[1], NULL, o, step);
}
static int rmsprop_step(nn_tensor *p, nn_tensor *g, nn_tensor **s, const void *o, int64_t step) {
  (void)step;
  return nn_rmsprop_step(p, g, s[0], s[1], s[2], o);
}

/* p = seq(6, 1, 0.4, 0.8); step s uses g = seq(6, 1 + s, 0.1 s, 1.1 + 0.2 s) */
static int run_optimizer(step_fn f, const void *opts, nn_dtype dt, const double *want, double tol) {
  int64_t n = 6;
  nn_tensor *p64 = seq(1, &n, 1, 0.4, 0.8), *p = nn_to(p64, dt), *state[3];
  for (int k = 0; k < 3; k++) state[k] = nn_zeros(dt, 1, &n);
  int bad = 0;
  for (int s = 0; s < 3; s++) {
    nn_tensor *g64 = seq(1, &n, 1 + s, 0.1 * s, 1.1 + 0.2 * s), *g = nn_to(g64, dt);
    if (f(p, g, state, opts, s + 1) < 0) {
      fprintf(stderr, "  step: %s\n", nn_errmsg());
      bad++;
    }
    nn_release(g64), nn_release(g);
  }
  bad += values_differ(p, want, n, tol);
  test_release_all(3, state);
  nn_release(p64), nn_release(p);
  return bad;
}

TEST(nnfunc_optimizers) {
  static const double sgd_want[] = {0.299580708857, 0.081258442331, 0.555304060179,
                                    0.904585707722, 0.124325461831, -1.12888548454};
  static const double nesterov_want[] = {0.219010176782, -0.4796701982,  0.426723188825,
                                         1.36597969102,  0.385160914511, -1.43393300015};
  static const double plain_want[] = {0.309850859741, 0.348328960828,  0.760484053425,
                                      0.802100195901, -0.155979926616, -1.2398067842};
  static const double adam_want[] = {0.363315254532, 0.902936145778, 0.882261600576,
                                     0.361525091726, -0.41434764313, -0.946687825017};
  static const double adamw_want[] = {0.37192561884, 0.899687454505,  0.880439558184,
                                      0.36146378639, -0.413247231233, -0.946102659247};
  static const double adam_max_want[] = {0.404743682168, 0.96108278553,   0.93602070884,
                                         0.308365001757, -0.470630684624, -0.955629188846};
  static const double rms_want[] = {0.296075773613, 0.845299876131,  0.858878616643,
                                    0.42659016071,  -0.378714770692, -0.971538990406};
  static const double rms_cm_want[] = {0.306655492942, 0.796183400919,  0.817115266553,
                                       0.475104768693, -0.333380780398, -0.957429691841};
  nn_sgd_opts sgd = {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01};
  nn_sgd_opts nesterov = {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true};
  nn_sgd_opts plain = {.lr = 0.1};
  nn_adam_opts adam = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.05};
  nn_adam_opts adamw = {
      .lr = 0.01, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6, .weight_decay = 0.1, .decoupled = true};
  nn_adam_opts adam_max = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .maximize = true};
  nn_rmsprop_opts rms = {.lr = 0.01, .alpha = 0.9, .eps = 1e-8, .weight_decay = 0.01};
  nn_rmsprop_opts rms_cm = {
      .lr = 0.01, .alpha = 0.9, .eps = 1e-8, .momentum = 0.5, .centered = true};
  for (int d = 0; d < 2; d++) {
    nn_dtype dt = d ? NN_F32 : NN_F64;
    double tol = d ? 1e-6 : 1e-11;
    *failures += run_optimizer(sgd_step, &sgd, dt, sgd_want, tol);
    *failures += run_optimizer(sgd_step, &nesterov, dt, nesterov_want, tol);
    *failures += run_optimizer(sgd_step, &plain, dt, plain_want, tol);
    *failures += run_optimizer(adam_step, &adam, dt, adam_want, tol);
    *failures += run_optimizer(adam_step, &adamw, dt, adamw_want, tol);
    *failures += run_optimizer(adam_step, &adam_max, dt, adam_max_want, tol);
    *failures += run_optimizer(rmsprop_step, &rms, dt, rms_want, tol);
    *failures += run_optimizer(rmsprop_step, &rms_cm, dt, rms_cm_want, tol);
  }
}

TEST(nnfunc_optimizer_errors) {
  nn_tensor *p = nn_zeros(NN_F32, 1, (int64_t[]){4}), *g = nn_zeros(NN_F32, 1, (int64_t[]){5});
  nn_tensor *m = nn_zeros(NN_F32, 1, (int64_t[]){4}), *v = nn_zeros(NN_F64, 1, (int64_t[]){4});
  nn_tensor *g4 = nn_zeros(NN_F32, 1, (int64_t[]){4}), *pi = nn_zeros(NN_I64, 1, (int64_t[]){4});
  nn_adam_opts o = {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
  CHECK(nn_adam_step(p, g, m, m, NULL, &o, 1) < 0 && strstr(nn_errmsg(), "gradient has shape {5}"));
  CHECK(nn_adam_step(p, g4, m, v, NULL, &o, 1) < 0 && strstr(nn_errmsg(), "second moment is f64"));
  CHECK(nn_adam_step(p, g4, m, m, NULL, &o, 0) < 0 && strstr(nn_errmsg(), "step"));
  CHECK(nn_adam_step(pi, g4, m, m, NULL, &o, 1) < 0 && strstr(nn_errmsg(), "f32 or f64"));
  nn_sgd_opts s = {.lr = 0.1, .momentum = 0.9};
  CHECK(nn_sgd_step(p, g4, NULL, &s, 1) < 0 && strstr(nn_errmsg(), "momentum buffer"));
  RELEASE(p, g, m, v, g4, pi);
}
