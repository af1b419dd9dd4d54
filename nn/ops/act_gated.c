/*
** nn/ops/act_gated.c: gated units ("GLU Variants Improve Transformer"): x splits along a dim
** into halves u and v, and the result is u * gate(v) (glu, PyTorch's F.glu) or gate(u) * v
** (reglu, geglu, swiglu, bilinear). One op; the variants are data (the gate's pointwise
** entry in the activation tables, whose rows compute f and f', and which half it gates),
** chosen by attr i[1]. Each output element reads its two inputs once: the gate's rows run a
** block at a time in buffers that stay in L1, and the backward recomputes gate(v) from x,
** the only thing kept.
*/
#include "nn/ops/pointwise.h"
#include "nn/pool.h"

typedef struct gate {
  const char *name;
  const nn_op *op; /* a unary entry (its kern: f and f' rows); NULL for the identity */
  double arg;      /* its parameter (silu's beta) */
  bool second;     /* the gate applies to the second half (glu) */
} gate;

static const gate gates[NN_NGATES] = {
    [NN_GLU] = {"glu", &nn_op_sigmoid, 0, true},   [NN_REGLU] = {"reglu", &nn_op_relu, 0, false},
    [NN_GEGLU] = {"geglu", &nn_op_gelu, 0, false}, [NN_SWIGLU] = {"swiglu", &nn_op_silu, 1, false},
    [NN_BILINEAR] = {"bilinear", NULL, 0, false},
};

enum { BLOCK = 512, GRAIN = 1 << 15 };

typedef struct gated_job {
  const gate *gt;
  int kind; /* 0 forward, 1 backward, 2 forward mode */
  bool f64;
  size_t es;
  int64_t L, W;      /* a half's elements per outer index, and the whole's (2 L) */
  char *x, *g, *out; /* x; the output's gradient (backward) or x's tangent (forward mode) */
} gated_job;

/* out = a * b, out += a, and (o1, o2) = (g * a, g * b) in one pass, over m elements; out may
   be a or b */
#define ROWS(T)                                                                                    \
  VECTOR_CLONES static void mul_##T(char *out, const char *a, const char *b, int64_t m) {          \
    T *o = (T *)out;                                                                               \
    const T *pa = (const T *)a, *pb = (const T *)b;                                                \
    for (int64_t i = 0; i < m; i++) o[i] = pa[i] * pb[i];                                          \
  }                                                                                                \
  VECTOR_CLONES static void add_##T(char *out, const char *a, int64_t m) {                         \
    T *o = (T *)out;                                                                               \
    const T *pa = (const T *)a;                                                                    \
    for (int64_t i = 0; i < m; i++) o[i] += pa[i];                                                 \
  }                                                                                                \
  VECTOR_CLONES static void muls_##T(char *o1, char *o2, const char *g, const char *a,             \
                                     const char *b, int64_t m) {                                   \
    T *p1 = (T *)o1, *p2 = (T *)o2;                                                                \
    const T *pg = (const T *)g, *pa = (const T *)a, *pb = (const T *)b;                            \
    for (int64_t i = 0; i < m; i++) p1[i] = pg[i] * pa[i], p2[i] = pg[i] * pb[i];                  \
  }
ROWS(float)
ROWS(double)

static void mul(const gated_job *j, char *out, const char *a, const char *b, int64_t m) {
  (j->f64 ? mul_double : mul_float)(out, a, b, m);
}

/* fv = gate(v) (a copy of v for the identity) */
static void gate_f(const gated_job *j, char *fv, char *v, int64_t m, double *arg) {
  if (!j->gt->op) {
    memcpy(fv, v, (size_t)m * j->es);
    return;
  }
  const unary_kern *k = j->gt->op->kern;
  int64_t s[2] = {(int64_t)j->es, (int64_t)j->es};
  k->f[j->f64 ? NN_F64 : NN_F32]((char *[]){fv, v, NULL, NULL}, s, m, arg);
}

/* out = w * gate'(v), given fv = gate(v); out may be w */
static void gate_df(const gated_job *j, char *out, char *w, char *v, char *fv, int64_t m,
                    double *arg) {
  if (!j->gt->op) {
    if (out != w) memcpy(out, w, (size_t)m * j->es);
    return;
  }
  const unary_kern *k = j->gt->op->kern;
  int64_t s[4] = {(int64_t)j->es, (int64_t)j->es, (int64_t)j->es, (int64_t)j->es};
  k->df[j->f64 ? NN_F64 : NN_F32]((char *[]){out, w, v, fv}, s, m, arg);
}

/* m elements at offset off of outer index o */
static void gated_block(const gated_job *j, int64_t o, int64_t off, int64_t m) {
  _Alignas(64) char fv[BLOCK * sizeof(double)], w[BLOCK * sizeof(double)];
  double arg[4] = {j->gt->arg, 0, 0, 0};
  size_t es = j->es;
  char *first = j->x + (o * j->W + off) * es, *second = first + j->L * es;
  char *u = j->gt->second ? first : second, *v = j->gt->second ? second : first;
  char *y = j->out + (o * j->L + off) * es; /* the output, or x's tangent's result */
  gate_f(j, fv, v, m, arg);
  if (j->kind == 0) {
    mul(j, y, u, fv, m);
  } else if (j->kind == 1) { /* g: the output's gradient; out: x's gradient, shaped as x */
    char *g = j->g + (o * j->L + off) * es, *gfirst = j->out + (o * j->W + off) * es;
    char *gu = j->gt->second ? gfirst : gfirst + j->L * es;
    char *gv = j->gt->second ? gfirst + j->L * es : gfirst;
    (j->f64 ? muls_double : muls_float)(gu, w, g, fv, u, m);
    gate_df(j, gv, w, v, fv, m, arg);
  } else { /* g: x's tangent, shaped as x */
    char *tfirst = j->g + (o * j->W + off) * es, *tsecond = tfirst + j->L * es;
    char *tu = j->gt->second ? tfirst : tsecond, *tv = j->gt->second ? tsecond : tfirst;
    mul(j, w, u, tv, m);
    gate_df(j, w, w, v, fv, m, arg);
    mul(j, y, tu, fv, m);
    (j->f64 ? add_double : add_float)(y, w, m);
  }
}

static void gated_pieces(int64_t lo, int64_t hi, void *arg) {
  const gated_job *j = arg;
  for (int64_t p = lo; p < hi;) {
    int64_t o = p / j->L, off = p % j->L, len = hi - p < j->L - off ? hi - p : j->L - off;
    for (int64_t b = 0; b < len; b += BLOCK)
      gated_block(j, o, off + b, len - b < BLOCK ? len - b : BLOCK);
    p += len;
  }
}

/* The job for x split along attr dim i[0] by gate i[1]: 0, or -1 with a message. */
static int gated_setup(gated_job *j, nn_tensor *x, const nn_attr *a, int64_t *half) {
  int d = (int)a->i[0];
  int64_t g = a->i[1];
  if (g < 0 || g >= NN_NGATES) return nn_errc("gated: no gate number %lld", (long long)g);
  if (d < 0 || d >= x->ndim)
    return nn_errc("dim %d is out of range for shape %s", d + 1, nn_shape_str(x));
  if (x->shape[d] % 2)
    return nn_errc("the input's dim %d has odd width %lld (input shape %s); it must split in two",
                   d + 1, (long long)x->shape[d], nn_shape_str(x));
  int64_t inner = 1;
  for (int k = d + 1; k < x->ndim; k++) inner *= x->shape[k];
  *j = (gated_job){.gt = &gates[g], .f64 = x->dtype == NN_F64};
  j->es = j->f64 ? sizeof(double) : sizeof(float);
  j->L = x->shape[d] / 2 * inner, j->W = 2 * j->L;
  *half = x->shape[d] / 2;
  return 0;
}

static nn_tensor *gated_prepared(const gated_job *j, nn_tensor *t) {
  nn_tensor *c = nn_to(t, j->f64 ? NN_F64 : NN_F32), *r = c ? nn_contiguous(c) : NULL;
  nn_release(c);
  return r;
}

/* runs the job on x (and g) into a new tensor of shape ndim, shape */
static nn_tensor *gated_run(gated_job *j, nn_tensor *x, nn_tensor *g, int ndim,
                            const int64_t *shape) {
  nn_tensor *xc = gated_prepared(j, x), *gc = g ? gated_prepared(j, g) : NULL, *r = NULL;
  if (xc && (gc || !g) && (r = nn_empty(xc->dtype, ndim, shape))) {
    j->x = nn_data(xc), j->g = gc ? nn_data(gc) : NULL, j->out = nn_data(r);
    int64_t total = nn_numel(x) / 2;
    if (total > 0) nn_parallel(total, GRAIN, gated_pieces, j);
  }
  nn_release(xc), nn_release(gc);
  return r;
}

static void half_shape(const nn_tensor *x, int d, int64_t half, int64_t *shape) {
  memcpy(shape, x->shape, (size_t)x->ndim * sizeof *shape);
  shape[d] = half;
}

static nn_tensor *gated_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                nn_tensor *out) {
  (void)op, (void)out;
  gated_job j;
  int64_t half, shape[NN_MAXDIM];
  if (gated_setup(&j, in[0], a, &half) < 0) return NULL;
  half_shape(in[0], (int)a->i[0], half, shape);
  return gated_run(&j, in[0], NULL, in[0]->ndim, shape);
}

static int gated_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  gated_job j;
  int64_t half;
  if (gated_setup(&j, c->in[0], &c->attr, &half) < 0) return -1;
  j.kind = 1;
  gin[0] = gated_run(&j, c->in[0], gout, c->in[0]->ndim, c->in[0]->shape);
  return gin[0] ? 0 : -1;
}

static nn_tensor *gated_jvp(const nn_ctx *c, nn_tensor *const *tin) {
  if (!tin[0]) return NULL;
  gated_job j;
  int64_t half, shape[NN_MAXDIM];
  if (gated_setup(&j, c->in[0], &c->attr, &half) < 0) return NULL;
  j.kind = 2;
  half_shape(c->in[0], (int)c->attr.i[0], half, shape);
  return gated_run(&j, c->in[0], tin[0], c->in[0]->ndim, shape);
}

const nn_op nn_op_gated = {.name = "gated",
                           .nin = 1,
                           .forward = gated_forward,
                           .vjp = gated_vjp,
                           .jvp = gated_jvp,
                           .kern = gates};

nn_tensor *nn_gated(nn_tensor *x, int d, nn_gate gate) {
  nn_attr a = {.i = {d, gate}, .ni = 2};
  return nn_call(&nn_op_gated, &x, &a);
}
