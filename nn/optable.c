/*
** nn/optable.c: the one table of ops, and nn_call, the one place where an op runs.
*/
#include <string.h>

#include "nn/autograd.h"
#include "nn/ops.h"

/* The X-macro lists expand to "&nn_op_a, &nn_op_b, ..."; clang-format would read the & after
   one as a binary operator. */
/* clang-format off */
#define ENTRY(name) &nn_op_##name,
const nn_op *const nn_ops[] = {
    NN_UNARY_OPS(ENTRY) NN_BINARY_OPS(ENTRY) NN_COMPARE_OPS(ENTRY)
    &nn_op_clamp, &nn_op_where,
    &nn_op_sum, &nn_op_prod, &nn_op_argmax, &nn_op_argmin,
    &nn_op_cat, &nn_op_stack, &nn_op_gather, &nn_op_scatter_add, &nn_op_index_select,
    &nn_op_index_add, &nn_op_masked_fill, &nn_op_one_hot,
    &nn_op_matmul, &nn_op_mm, &nn_op_bmm, &nn_op_outer,
    &nn_op_view, &nn_op_reshape, &nn_op_flatten, &nn_op_squeeze, &nn_op_unsqueeze,
    &nn_op_transpose, &nn_op_permute, &nn_op_narrow, &nn_op_select, &nn_op_expand,
    &nn_op_contiguous, &nn_op_to, &nn_op_clone,
    NN_ACTIVATION_OPS(ENTRY)
    &nn_op_linear_scan, &nn_op_linear_scan_complex, &nn_op_mingru_scan,
    &nn_op_linear, &nn_op_linear_nobias, &nn_op_softmax, &nn_op_log_softmax,
    &nn_op_layer_norm, &nn_op_batch_norm, &nn_op_embedding,
    &nn_op_linear_fa, &nn_op_linear_fa_nobias, &nn_op_linear_pfa, &nn_op_linear_pfa_nobias,
    &nn_op_cross_entropy, &nn_op_nll_loss, &nn_op_bce_with_logits,
    &nn_op_sort, &nn_op_topk, &nn_op_cumsum, &nn_op_cumprod, &nn_op_tril, &nn_op_triu,
    &nn_op_flip, &nn_op_roll, &nn_op_repeat_interleave, &nn_op_dot, &nn_op_norm,
    &nn_op_rnn_tanh, &nn_op_rnn_relu, &nn_op_lstm, &nn_op_gru,
    &nn_op_conv2d, &nn_op_conv2d_nobias, &nn_op_conv1d, &nn_op_conv1d_nobias,
    &nn_op_batch_norm_nc, &nn_op_max_pool2d, &nn_op_avg_pool2d, &nn_op_adaptive_avg_pool2d,
};
/* clang-format on */
const int nn_nops = sizeof nn_ops / sizeof *nn_ops;

const nn_op *nn_op_find(const char *name) {
  for (int k = 0; k < nn_nops; k++)
    if (strcmp(nn_ops[k]->name, name) == 0) return nn_ops[k];
  return NULL;
}

/* After a forward: Ctrl-C, and anomalies when detect_anomaly is on; -1 with a message. */
static int checked(const nn_op *op, int nin, nn_tensor *const *in, int nout,
                   nn_tensor *const *out) {
  if (nn_interrupted()) return nn_interrupt_error();
  return nn_detect_anomaly() ? nn_anomaly_check_forward(op, nin, in, nout, out) : 0;
}

int nn_call_multi(const nn_op *op, int nin, nn_tensor *const *in, const nn_attr *a, int nout,
                  nn_tensor **out) {
  for (int k = 0; k < nout; k++) out[k] = NULL;
  if (nout != nn_op_nout(op))
    return nn_errc("%s has %d output(s), not %d", op->name, nn_op_nout(op), nout);
  if (!op->forward_multi) return (out[0] = nn_calln(op, nin, in, a)) ? 0 : -1;
  nn_attr counted;
  if (op->nin < 0) {
    counted = a ? *a : (nn_attr){0};
    counted.i[NN_ATTR_NIN] = nin;
    a = &counted;
  }
  nn_tensor *saved[NN_MAXSAVED] = {0};
  int nsaved = 0;
  bool wants = nn_autograd_wants(op, nin, in);
  if (op->forward_multi(op, in, a, out, wants ? saved : NULL, &nsaved) < 0) return -1;
  int rc = checked(op, nin, in, nout, out) < 0
               ? -1
               : nn_autograd_record_multi(op, nin, in, a, nout, out, nsaved, saved);
  for (int k = 0; k < nsaved; k++) nn_release(saved[k]);
  for (int k = 0; rc < 0 && k < nout; k++) nn_release(out[k]), out[k] = NULL;
  return rc;
}

nn_tensor *nn_calln(const nn_op *op, int nin, nn_tensor *const *in, const nn_attr *a) {
  if (op->forward_multi) {
    nn_tensor *out;
    return nn_call_multi(op, nin, in, a, 1, &out) == 0 ? out : NULL;
  }
  nn_attr counted;
  if (op->nin < 0) {
    counted = a ? *a : (nn_attr){0};
    counted.i[NN_ATTR_NIN] = nin;
    a = &counted;
  }
  nn_tensor *out = op->forward(op, in, a, NULL);
  if (out && (checked(op, nin, in, 1, &out) < 0 || nn_autograd_record(op, nin, in, a, out) < 0)) {
    nn_release(out);
    return NULL;
  }
  return out;
}

nn_tensor *nn_call(const nn_op *op, nn_tensor *const *in, const nn_attr *a) {
  return nn_calln(op, op->nin, in, a);
}

/* In place: out must not be an expanded view, and an input that shares only part of out's
   memory is read from a copy (else the op overwrites it while reading it). */
int nn_call_into(const nn_op *op, nn_tensor *out, nn_tensor *const *in, const nn_attr *a) {
  if (nn_autograd_check_inplace(op, out, op->nin, in) < 0 || nn_check_writable(out) < 0) return -1;
  enum { MAXIN = 8 };
  nn_tensor *copies[MAXIN] = {0}, *args[MAXIN];
  int nin = op->nin > 0 && op->nin <= MAXIN ? op->nin : 0, rc = 0;
  for (int k = 0; k < nin; k++) {
    args[k] = in[k];
    if (nn_partial_overlap(out, in[k]) && !(args[k] = copies[k] = nn_clone(in[k]))) rc = -1;
  }
  nn_tensor *r = rc == 0 ? op->forward(op, nin ? args : in, a, out) : NULL;
  for (int k = 0; k < nin; k++) nn_release(copies[k]);
  if (!r) return -1;
  nn_bump_version(out);
  nn_release(r);
  return nn_interrupted() ? nn_interrupt_error() : 0;
}
