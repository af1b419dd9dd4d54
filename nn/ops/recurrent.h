/*
** nn/ops/recurrent.h: what recurrent.c (the fused ops) and recurrent_ref.c (the same
** recurrences composed of ordinary ops, for the JVP and as a reference) share.
*/
#ifndef NN_OPS_RECURRENT_H
#define NN_OPS_RECURRENT_H

#include "nn/op.h"

enum { RNN_TANH, RNN_RELU, LSTM, GRU };

/* the kind of a recurrent op entry, and the entry of a kind */
int nn_recurrent_kind(const nn_op *op);
const nn_op *nn_recurrent_op(int kind);

/* The op's outputs (y, h_n and for LSTM c_n) computed step by step with ordinary ops, and
   their tangents from the inputs' tangents tin (NULL: none; tout NULL: values only).
   Returns 0, or -1 with a message. */
int nn_recurrent_composed(const nn_op *op, nn_tensor *const *in, nn_tensor *const *tin,
                          nn_tensor **out, nn_tensor **tout);
int nn_recurrent_jvp(const nn_ctx *c, nn_tensor *const *tin, nn_tensor **tout);

#endif
