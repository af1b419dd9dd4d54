/*
** nn/op.h: what an op is.
**
** Every op is one entry: a forward kernel and, for autograd, its VJP (reverse mode) and JVP
** (forward mode), side by side in the op family's file (nn/ops/). optable.c lists the
** entries; nn_call is the one place an op runs, so that autograd can record it.
*/
#ifndef NN_OP_H
#define NN_OP_H

#include "nn/tensor.h"

enum { NN_ATTR_INTS = NN_MAXDIM + 2, NN_ATTR_NIN = NN_ATTR_INTS - 1 };
/* the most outputs an op may have, and the most tensors its forward may save for the VJP */
enum { NN_MAXOUT = 4, NN_MAXSAVED = 12 };

/* An op's non-tensor arguments: dims, sizes and flags in i, scalars in f. Variadic ops
   (nin == -1) find their input count in i[NN_ATTR_NIN], set by nn_calln. */
typedef struct nn_attr {
  int64_t i[NN_ATTR_INTS];
  double f[4];
  int ni;
} nn_attr;

typedef struct nn_op nn_op;

/* What a VJP or JVP sees of the call it differentiates. */
typedef struct nn_ctx {
  const nn_op *op;
  int nin;
  nn_tensor **in; /* the inputs, as they were when the op ran */
  nn_tensor *out; /* the output (an alias without autograd state), when the op saves it */
  nn_attr attr;
  int nout;          /* outputs of the call (1 unless op->nout > 1) */
  int nsaved;        /* tensors the forward left in saved[] (forward_multi ops) */
  nn_tensor **saved; /* owned by the node; released with its buffers */
} nn_ctx;

/* out is NULL (allocate the result) or, for ops that can run in place, the destination */
typedef nn_tensor *(*nn_forward_fn)(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                    nn_tensor *out);
/* gin[k] is NULL on entry; set it (a new reference) for every input k with need[k] */
typedef int (*nn_vjp_fn)(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin);
/* the output's tangent from the inputs' tangents (NULL where an input has none) */
typedef nn_tensor *(*nn_jvp_fn)(const nn_ctx *c, nn_tensor *const *tin);

/* Ops with several outputs or saved state. The forward fills out[0..nout-1] (new references)
   and, when saved is not NULL (the call is recorded or carries tangents), may leave up to
   NN_MAXSAVED tensors there for the VJP/JVP (ctx->saved[], ctx->nsaved = the count it
   returns through *nsaved). Returns 0, or -1 with a message (nothing left allocated). */
typedef int (*nn_forward_multi_fn)(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                   nn_tensor **out, nn_tensor **saved, int *nsaved);
/* gout[k] is the gradient reaching output k, NULL where none flowed (at least one is set) */
typedef int (*nn_vjp_multi_fn)(const nn_ctx *c, nn_tensor *const *gout, const bool *need,
                               nn_tensor **gin);
/* sets tout[k] (new references) for every output, from the inputs' tangents */
typedef int (*nn_jvp_multi_fn)(const nn_ctx *c, nn_tensor *const *tin, nn_tensor **tout);

struct nn_op {
  const char *name;
  int nin; /* -1: any number (cat, stack), given to nn_calln */
  nn_forward_fn forward;
  nn_vjp_fn vjp; /* NULL: not differentiable */
  nn_jvp_fn jvp;
  const void *kern; /* the family's data for this op (e.g. its per-dtype loops) */
  bool save_out;    /* the VJP/JVP read the output */
  /* An op whose VJP is deliberately not the derivative of its forward (a learning rule's
     backward, such as feedback alignment's) says so here: vjp_rule states what the VJP
     computes instead, and bit k of vjp_exact is set when input k's gradient is still the true
     one (the finite-difference check covers those inputs; the JVP stays the derivative). */
  const char *vjp_rule;
  unsigned vjp_exact;
  /* bit k set when the VJP reads only input k's shape and dtype, never its values (ReGELU2
     keeps a code instead): the node then keeps a husk of it, and its data can be freed;
     inputs past the 32nd are always kept */
  unsigned in_unread;
  /* ops with several outputs or saved state set these instead of forward/vjp/jvp */
  int nout; /* 0 or 1: one output */
  nn_forward_multi_fn forward_multi;
  nn_vjp_multi_fn vjp_multi;
  nn_jvp_multi_fn jvp_multi;
};

/* true when an op has a reverse-mode derivative */
static inline bool nn_op_differentiable(const nn_op *op) {
  return op->vjp || op->vjp_multi;
}
static inline int nn_op_nout(const nn_op *op) {
  return op->nout > 1 ? op->nout : 1;
}

/* Runs op on in (op->nin tensors) with attributes a (may be NULL). */
nn_tensor *nn_call(const nn_op *op, nn_tensor *const *in, const nn_attr *a);
/* The same for ops taking any number of inputs (op->nin == -1). */
nn_tensor *nn_calln(const nn_op *op, int nin, nn_tensor *const *in, const nn_attr *a);
/* Runs an op with several outputs (or a forward_multi op): out[0..nout-1] get new
   references; nout must be the op's. Returns 0, or -1 with a message. */
int nn_call_multi(const nn_op *op, int nin, nn_tensor *const *in, const nn_attr *a, int nout,
                  nn_tensor **out);
/* The same, writing into out (elementwise ops only): returns 0, or -1 with a message. */
int nn_call_into(const nn_op *op, nn_tensor *out, nn_tensor *const *in, const nn_attr *a);

/* The table of every op (optable.c), for lookups by name. */
const nn_op *nn_op_find(const char *name);
extern const nn_op *const nn_ops[];
extern const int nn_nops;

#endif
