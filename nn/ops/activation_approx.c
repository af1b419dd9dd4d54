/*
** nn/ops/activation_approx.c: ReGELU2 and ReSiLU2 ("Reducing Fine-Tuning Memory Overhead by
** Approximate and Memory-Sharing Backpropagation").
**
** The forward is exact GELU or SiLU. The backward uses the derivative of a combination of
** three ReLUs, h(x) = sum_i a_i max(0, x - c_i) with sum a_i = 1 and sum a_i c_i = 0: a step
** function of 4 levels, 0 | a_1 | a_1 + a_2 | a_1 + a_2 + a_3, chosen by how many c_i lie
** below x. So the forward keeps only that interval index, 2 bits an element packed 4 to a
** byte (ctx->saved[0], u8, in blocks: see below), and the backward (and forward mode, with the
** same rule) reads nothing else: not x (the node keeps x's shape only: in_unread), not y. An
** f32 GELU keeps x, 32 bits an element.
*/
#include "nn/autograd.h"
#include "nn/ops/pointwise.h"
#include "nn/pool.h"

typedef struct approx_kern {
  const nn_op *exact; /* the forward */
  double beta;        /* its parameter (silu's beta) */
  double a[3], c[3];  /* the ReLU combination, c ascending */
} approx_kern;

/* The codes are kept in blocks of 256 elements, 64 bytes: byte j of a block holds elements
   j, j + q, j + 2q and j + 3q of it (q = 64, or a quarter of a last short block, rounded
   up) in its bit pairs 0-1, 2-3, 4-5, 6-7. So both loops below read their elements in
   unit strides and vectorize (element i to byte i / 4 would need a shuffle). ceil(n / 4)
   bytes in all. */
enum { CODE_BLOCK = 256, CODE_BYTES = CODE_BLOCK / 4, CODE_GRAIN = 256 };

typedef struct code_job {
  const approx_kern *k;
  int64_t n;
  const char *x; /* encode: x; decode: g */
  uint8_t *code;
  char *r; /* decode: the result */
  bool f64;
} code_job;

/* the block starting at element e: its element count m and quarter q */
static int64_t block_quarter(int64_t n, int64_t e, int64_t *m) {
  *m = n - e < CODE_BLOCK ? n - e : CODE_BLOCK;
  return (*m + 3) / 4;
}

#define CODE_OF(v) ((uint8_t)((v > c0) + (v > c1) + (v > c2)))
#define ENCODE(T)                                                                                  \
  VECTOR_CLONES static void encode_##T(const code_job *j, int64_t lo, int64_t hi) {                \
    const T c0 = (T)j->k->c[0], c1 = (T)j->k->c[1], c2 = (T)j->k->c[2];                            \
    for (int64_t blk = lo; blk < hi; blk++) {                                                      \
      int64_t e = blk * CODE_BLOCK, m, q = block_quarter(j->n, e, &m);                             \
      const T *x = (const T *)j->x + e;                                                            \
      uint8_t *code = j->code + blk * CODE_BYTES;                                                  \
      if (q == CODE_BYTES) {                                                                       \
        for (int64_t i = 0; i < CODE_BYTES; i++)                                                   \
          code[i] = (uint8_t)(CODE_OF(x[i]) | CODE_OF(x[i + 64]) << 2 | CODE_OF(x[i + 128]) << 4 | \
                              CODE_OF(x[i + 192]) << 6);                                           \
        continue;                                                                                  \
      }                                                                                            \
      for (int64_t i = 0; i < q; i++) {                                                            \
        uint8_t b = 0;                                                                             \
        for (int s = 0; s < 4; s++)                                                                \
          if (i + s * q < m) b |= (uint8_t)(CODE_OF(x[i + s * q]) << (2 * s));                     \
        code[i] = b;                                                                               \
      }                                                                                            \
    }                                                                                              \
  }
/* r = g times the level of each element's code (selects: the levels exactly) */
#define LEVEL(cd) (cd == 0 ? l0 : cd == 1 ? l1 : cd == 2 ? l2 : l3)
#define DECODE(T)                                                                                  \
  VECTOR_CLONES static void decode_##T(const code_job *j, int64_t lo, int64_t hi) {                \
    const double *a = j->k->a;                                                                     \
    const T l0 = 0, l1 = (T)a[0], l2 = (T)(a[0] + a[1]), l3 = (T)(a[0] + a[1] + a[2]);             \
    for (int64_t blk = lo; blk < hi; blk++) {                                                      \
      int64_t e = blk * CODE_BLOCK, m, q = block_quarter(j->n, e, &m);                             \
      const T *g = (const T *)j->x + e;                                                            \
      T *r = (T *)j->r + e;                                                                        \
      const uint8_t *code = j->code + blk * CODE_BYTES;                                            \
      if (q == CODE_BYTES) {                                                                       \
        for (int s = 0; s < 4; s++)                                                                \
          for (int64_t i = 0; i < CODE_BYTES; i++) {                                               \
            int cd = code[i] >> (2 * s) & 3;                                                       \
            r[i + s * 64] = g[i + s * 64] * LEVEL(cd);                                             \
          }                                                                                        \
        continue;                                                                                  \
      }                                                                                            \
      for (int64_t i = 0; i < m; i++) {                                                            \
        int cd = code[i % q] >> (2 * (i / q)) & 3;                                                 \
        r[i] = g[i] * LEVEL(cd);                                                                   \
      }                                                                                            \
    }                                                                                              \
  }
ENCODE(float)
ENCODE(double)
DECODE(float)
DECODE(double)

static void encode_blocks(int64_t lo, int64_t hi, void *arg) {
  const code_job *j = arg;
  (j->f64 ? encode_double : encode_float)(j, lo, hi);
}
static void decode_blocks(int64_t lo, int64_t hi, void *arg) {
  const code_job *j = arg;
  (j->f64 ? decode_double : decode_float)(j, lo, hi);
}

static nn_tensor *encode(const approx_kern *k, nn_tensor *x) {
  int64_t n = nn_numel(x), nb = (n + 3) / 4;
  nn_tensor *t = nn_empty(NN_U8, 1, &nb);
  if (!t) return NULL;
  code_job j = {k, n, nn_data(x), (uint8_t *)nn_data(t), NULL, x->dtype == NN_F64};
  nn_parallel((n + CODE_BLOCK - 1) / CODE_BLOCK, CODE_GRAIN, encode_blocks, &j);
  return t;
}

static int approx_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a, nn_tensor **out,
                          nn_tensor **saved, int *nsaved) {
  (void)a;
  const approx_kern *k = op->kern;
  nn_attr ea = {.f = {k->beta}};
  *nsaved = 0;
  if (!(out[0] = nn_unary_forward(k->exact, in, &ea, NULL))) return -1;
  if (!saved) return 0;
  nn_tensor *xc = nn_to(in[0], out[0]->dtype), *x = xc ? nn_contiguous(xc) : NULL;
  nn_release(xc);
  saved[0] = x ? encode(k, x) : NULL;
  nn_release(x);
  if (!saved[0]) {
    nn_release(out[0]);
    out[0] = NULL;
    return -1;
  }
  *nsaved = 1;
  return 0;
}

/* g times the step derivative, in g's float dtype and x's shape */
static nn_tensor *apply_rule(const nn_ctx *c, nn_tensor *gin) {
  const approx_kern *k = c->op->kern;
  const nn_tensor *x = c->in[0];
  nn_dtype dt = nn_dtype_is_float(gin->dtype) ? gin->dtype : NN_F32;
  nn_tensor *gc = nn_to(gin, dt), *g = gc ? nn_contiguous(gc) : NULL;
  nn_release(gc);
  nn_tensor *r = g ? nn_empty(dt, x->ndim, x->shape) : NULL;
  if (r) {
    int64_t n = nn_numel(r);
    code_job j = {k, n, nn_data(g), (uint8_t *)nn_data(c->saved[0]), nn_data(r), dt == NN_F64};
    nn_parallel((n + CODE_BLOCK - 1) / CODE_BLOCK, CODE_GRAIN, decode_blocks, &j);
  }
  nn_release(g);
  return r;
}

static int approx_vjp(const nn_ctx *c, nn_tensor *const *gout, const bool *need, nn_tensor **gin) {
  if (!need[0] || !gout[0]) return 0;
  gin[0] = apply_rule(c, gout[0]);
  return gin[0] ? 0 : -1;
}

static int approx_jvp(const nn_ctx *c, nn_tensor *const *tin, nn_tensor **tout) {
  if (!tin[0]) return 0;
  tout[0] = apply_rule(c, tin[0]);
  return tout[0] ? 0 : -1;
}

static const approx_kern regelu2_kern = {
    &nn_op_gelu, 0, {-0.049223, 1.097963, -0.048741}, {-3.185881, -0.001179, 3.190833}};
static const approx_kern resilu2_kern = {
    &nn_op_silu, 1, {-0.040604, 1.080925, -0.040322}, {-6.305046, -0.000868, 6.325815}};

#define APPROX_OP(name_, what)                                                                     \
  const nn_op nn_op_##name_ = {.name = #name_,                                                     \
                               .nin = 1,                                                           \
                               .kern = &name_##_kern,                                              \
                               .nout = 1,                                                          \
                               .forward_multi = approx_forward,                                    \
                               .vjp_multi = approx_vjp,                                            \
                               .jvp_multi = approx_jvp,                                            \
                               .in_unread = 1,                                                     \
                               .vjp_rule = "g * (the 4-level step derivative of " what             \
                                           "'s 3-ReLU fit), from a 2-bit code per element"};
APPROX_OP(regelu2, "GELU")
APPROX_OP(resilu2, "SiLU")

nn_tensor *nn_regelu2(nn_tensor *x) {
  nn_tensor *y = NULL;
  return nn_call_multi(&nn_op_regelu2, 1, &x, NULL, 1, &y) == 0 ? y : NULL;
}
nn_tensor *nn_resilu2(nn_tensor *x) {
  nn_tensor *y = NULL;
  return nn_call_multi(&nn_op_resilu2, 1, &x, NULL, 1, &y) == 0 ? y : NULL;
}

int64_t nn_saved_bytes(const nn_tensor *y) {
  const nn_node *n = y->grad_fn;
  if (!n) return -1;
  int64_t bytes = 0;
  for (int k = 0; k < n->ctx.nsaved; k++)
    if (n->ctx.saved[k])
      bytes += nn_numel(n->ctx.saved[k]) * (int64_t)nn_dtype_size(n->ctx.saved[k]->dtype);
  if (n->ctx.out) bytes += nn_numel(n->ctx.out) * (int64_t)nn_dtype_size(n->ctx.out->dtype);
  return bytes;
}
