/*
** nn/ops/create.c: tensors made from a few numbers: ranges, evenly spaced points, identity
** matrices. Not differentiable (they have no tensor inputs), so plain functions, no op
** entries. Values are computed in double and stored in the requested dtype.
*/
#include <math.h>

#include "nn/ops.h"

static int check_dtype(nn_dtype dt) {
  if ((int)dt >= 0 && dt < NN_NDTYPES) return 0;
  return nn_errc("unknown dtype number %d", (int)dt);
}

/* A 1-D tensor of n elements, element i being f(i). */
static nn_tensor *fill_1d(nn_dtype dt, int64_t n, double (*f)(int64_t i, const double *arg),
                          const double *arg) {
  nn_tensor *t = nn_empty(dt, 1, &n);
  if (!t) return NULL;
  char *data = nn_data(t);
  size_t size = nn_dtype_size(dt);
  for (int64_t i = 0; i < n; i++) nn_store(data + i * size, dt, f(i, arg));
  return t;
}

static double range_at(int64_t i, const double *arg) {
  return arg[0] + (double)i * arg[1];
}

/* a, a+step, ... up to b inclusive, like Lua's numeric for. The count tolerates the
   rounding of (b-a)/step (range(0, 1, 0.1) has 11 elements); a step pointing away from b
   gives an empty tensor. */
nn_tensor *nn_arange(double a, double b, double step, nn_dtype dt) {
  if (check_dtype(dt) < 0) return NULL;
  if (!isfinite(a) || !isfinite(b) || !isfinite(step))
    return nn_err("range bounds and step must be finite (got %g, %g, %g)", a, b, step);
  if (step == 0) return nn_err("range step must not be zero");
  double span = (b - a) / step;
  if (span < 0) span = -1; /* wrong direction: nothing */
  double count = floor(span + 1e-9 * (1 + fabs(span) * 1e-3)) + 1;
  if (count > (double)(INT64_C(1) << 50))
    return nn_err("range from %g to %g by %g has too many elements (%.0f)", a, b, step, count);
  return fill_1d(dt, (int64_t)count, range_at, (const double[]){a, step});
}

/* The first half counts up from a, the second down from b, so both ends come out exact. */
static double linspace_at(int64_t i, const double *arg) {
  double a = arg[0], b = arg[1], step = arg[2];
  int64_t n = (int64_t)arg[3];
  return i < n / 2 ? a + (double)i * step : b - (double)(n - 1 - i) * step;
}

nn_tensor *nn_linspace(double a, double b, int64_t n, nn_dtype dt) {
  if (check_dtype(dt) < 0) return NULL;
  if (n < 0) return nn_err("linspace needs a count >= 0, got %lld", (long long)n);
  if (isnan(a) || isnan(b)) return nn_err("linspace bounds cannot be nan (got %g, %g)", a, b);
  double step = n > 1 ? (b - a) / (double)(n - 1) : 0;
  return fill_1d(dt, n, linspace_at, (const double[]){a, n > 1 ? b : a, step, (double)n});
}

nn_tensor *nn_eye(int64_t n, nn_dtype dt) {
  if (check_dtype(dt) < 0) return NULL;
  if (n < 0) return nn_err("eye needs a size >= 0, got %lld", (long long)n);
  nn_tensor *t = nn_zeros(dt, 2, (int64_t[]){n, n});
  if (!t) return NULL;
  char *data = nn_data(t);
  size_t size = nn_dtype_size(dt);
  for (int64_t i = 0; i < n; i++) nn_store(data + (i * n + i) * size, dt, 1);
  return t;
}
