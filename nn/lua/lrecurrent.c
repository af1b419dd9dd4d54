/*
** nn/lua/lrecurrent.c: the fused recurrent ops (nn/ops/recurrent.c) as functions returning
** several tensors: nn.rnn_tanh, nn.rnn_relu, nn.gru (y, h_n) and nn.lstm (y, h_n, c_n). The
** layers of stdlib/nn/recurrent.lua call them once per layer.
*/
#include <lauxlib.h>

#include "nn/lua/lnn.h"
#include "nn/ops.h"

/* f(x, h0, [c0,] w_ih, w_hh [, b_ih, b_hh]): h0, c0 and the biases may be nil (zeros) */
static int l_recurrent(lua_State *L) {
  const nn_op *op = lua_touserdata(L, lua_upvalueindex(1));
  bool lstm = op == &nn_op_lstm;
  int w = lstm ? 4 : 3; /* the Lua argument of w_ih */
  nn_tensor *x = lnn_check(L, 1), *h0 = lnn_opt(L, 2), *c0 = lstm ? lnn_opt(L, 3) : NULL;
  nn_tensor *wih = lnn_check(L, w), *whh = lnn_check(L, w + 1);
  nn_tensor *bih = lnn_opt(L, w + 2), *bhh = lnn_opt(L, w + 3), *out[3] = {0};
  if (nn_recurrent(op, x, h0, c0, wih, whh, bih, bhh, out) < 0) lnn_error(L, NULL);
  int nout = nn_op_nout(op);
  for (int k = 0; k < nout; k++) lnn_push(L, out[k]);
  lnn_gc_check(L);
  return nout;
}

static const lnn_reg docs[] = {
    {"rnn_tanh", NULL, "nn.rnn_tanh(x, h0, w_ih, w_hh [, b_ih, b_hh]) -> y, h_n",
     "One tanh RNN layer over a whole sequence: x (batch, time, in), h0 (batch, hidden) or nil; "
     "h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) for every t in one C call."},
    {"rnn_relu", NULL, "nn.rnn_relu(x, h0, w_ih, w_hh [, b_ih, b_hh]) -> y, h_n",
     "nn.rnn_tanh with relu in place of tanh."},
    {"lstm", NULL, "nn.lstm(x, h0, c0, w_ih, w_hh [, b_ih, b_hh]) -> y, h_n, c_n",
     "One LSTM layer over a whole sequence, PyTorch's gates i, f, g, o (w_ih is 4 hidden x in); "
     "forward and BPTT are one C call each."},
    {"gru", NULL, "nn.gru(x, h0, w_ih, w_hh [, b_ih, b_hh]) -> y, h_n",
     "One GRU layer over a whole sequence, PyTorch's gates r, z, n and formula "
     "n = tanh(W_in x + b_in + r (W_hn h + b_hn))."},
};

void lnn_open_recurrent(lua_State *L) {
  const nn_op *ops[] = {&nn_op_rnn_tanh, &nn_op_rnn_relu, &nn_op_lstm, &nn_op_gru};
  for (int k = 0; k < 4; k++) {
    lua_pushlightuserdata(L, (void *)ops[k]);
    lua_pushcclosure(L, l_recurrent, 1);
    lnn_register_top(L, "Recurrent layers as functions", LNN_FUNC, &docs[k]);
  }
}
