/*
** nn/lua/lscan.c: nn.linear_scan and nn.linear_scan_complex.
*/
#include <lauxlib.h>

#include "nn/lua/lnn.h"
#include "nn/ops.h"

static int l_linear_scan(lua_State *L) {
  nn_tensor *a = lnn_check(L, 1), *b = lnn_check(L, 2), *h0 = lnn_opt(L, 3);
  lnn_push(L, nn_linear_scan(a, b, h0));
  return 1;
}

static int l_mingru_scan(lua_State *L) {
  nn_tensor *p = lnn_check(L, 1), *h0 = lnn_opt(L, 2);
  lnn_push(L, nn_mingru_scan(p, h0));
  return 1;
}

/* checks that the parts at arg and arg + 1 are tensors of one shape */
static void check_pair(lua_State *L, int arg, const char *re, const char *im) {
  nn_tensor *x = lnn_check(L, arg), *y = lnn_check(L, arg + 1);
  if (!nn_same_shape(x, y))
    lnn_errorf(L, "%s and %s differ in shape (%s %s, %s %s)", re, im, re, nn_shape_str(x), im,
               nn_shape_str(y));
}

/* the checked pair at arg as one planar complex tensor (2, ...), or NULL */
static nn_tensor *planar(lua_State *L, int arg) {
  return nn_stack((nn_tensor *[]){lnn_check(L, arg), lnn_check(L, arg + 1)}, 2, 0);
}

/* the real and imaginary parts of h (2, ...) as two views */
static int push_parts(lua_State *L, nn_tensor *h) {
  if (!h) return lnn_error(L, NULL);
  nn_tensor *re = nn_t_select(h, 0, 0), *im = re ? nn_t_select(h, 0, 1) : NULL;
  nn_release(h);
  if (!im) nn_release(re);
  lnn_push(L, re);
  lnn_push(L, im);
  return 2;
}

/* (a, b [, h0]) planar, or (ar, ai, br, bi [, h0r, h0i]) in pairs */
static int l_linear_scan_complex(lua_State *L) {
  if (!lnn_test(L, 4)) {
    nn_tensor *a = lnn_check(L, 1), *b = lnn_check(L, 2), *h0 = lnn_opt(L, 3);
    lnn_push(L, nn_linear_scan_complex(a, b, h0));
    return 1;
  }
  bool init = !lua_isnoneornil(L, 5) || !lua_isnoneornil(L, 6);
  check_pair(L, 1, "ar", "ai"), check_pair(L, 3, "br", "bi");
  if (init) check_pair(L, 5, "h0r", "h0i");
  nn_tensor *a = planar(L, 1), *b = a ? planar(L, 3) : NULL, *h0 = NULL, *h = NULL;
  if (b && (!init || (h0 = planar(L, 5)))) h = nn_linear_scan_complex(a, b, h0);
  nn_release(a), nn_release(b), nn_release(h0);
  return push_parts(L, h);
}

static const lnn_reg scan_fns[] = {
    {"linear_scan", l_linear_scan, "nn.linear_scan(a, b [, h0]) -> h",
     "h_t = a_t * h_{t-1} + b_t along time: a and b (batch, time, features) of one shape, h0 "
     "(batch, features) or zeros; h holds every state (batch, time, features), the final one "
     "is h:select(2, -1). A sequential loop in C (exact), differentiable in both modes (the "
     "backward is the reverse scan)."},
    {"linear_scan_complex", l_linear_scan_complex,
     "nn.linear_scan_complex(ar, ai, br, bi [, h0r, h0i]) -> hr, hi  |  "
     "nn.linear_scan_complex(a, b [, h0]) -> h",
     "The complex scan h_t = a_t * h_{t-1} + b_t, given as real and imaginary parts (each "
     "(batch, time, features); h0r, h0i (batch, features)), returning hr, hi; or in planar "
     "form, a and b (2, batch, time, features) holding real parts then imaginary parts, h0 "
     "(2, batch, features), returning h (2, batch, time, features). Differentiable."},
    {"mingru_scan", l_mingru_scan, "nn.mingru_scan(p [, h0]) -> h",
     "minGRU's recurrence with its gates fused: p (batch, time, 2 hidden) holds the gate "
     "pre-activations k, then the candidates c; z = sigmoid(k), h_t = (1 - z) h_{t-1} + z c; h0 "
     "(batch, hidden) or zeros; h (batch, time, hidden). One C loop each way (the backward "
     "recomputes z); nn.MinGRU runs on it."},
    {NULL, NULL, NULL, NULL}};

void lnn_open_scan(lua_State *L) {
  lnn_register(L, "Scans", LNN_FUNC, scan_fns);
}
