/*
** nn/lua/lconv.c: the convolutions' C entry, nn._conv, behind nn.conv2d, nn.conv1d and the
** Conv2d/Conv1d modules (stdlib/nn/conv.lua reads and checks the options, then calls it).
** The caller's name comes first so that the core's messages name the user's function or
** module ("nn.Conv2d: input has 3 channels but ...").
*/
#include <lauxlib.h>

#include "nn/lua/lnn.h"
#include "nn/ops.h"

/* nn._conv(fname, spatial, x, w, b_or_nil, sh, sw, ph, pw, dh, dw, groups) */
static int l_conv(lua_State *L) {
  const char *fname = luaL_checkstring(L, 1);
  lua_Integer spatial = lnn_checkinteger(L, 2);
  nn_tensor *x = lnn_check(L, 3), *w = lnn_check(L, 4), *b = lnn_opt(L, 5);
  int64_t v[7];
  for (int k = 0; k < 7; k++) v[k] = lnn_checkinteger(L, 6 + k);
  nn_conv_opts o = {
      .stride = {v[0], v[1]}, .padding = {v[2], v[3]}, .dilation = {v[4], v[5]}, .groups = v[6]};
  if (spatial == 1) /* conv1d reads the first of each pair: the width's */
    o.stride[0] = v[1], o.padding[0] = v[3], o.dilation[0] = v[5];
  nn_tensor *y = spatial == 1 ? nn_conv1d(x, w, b, &o) : nn_conv2d(x, w, b, &o);
  if (!y) return lnn_error(L, fname);
  lnn_push(L, y);
  return 1;
}

static const lnn_reg conv_fns[] = {
    {"_conv", l_conv,
     "nn._conv(fname, spatial, x, w, b, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups)",
     "The C entry of nn.conv2d (spatial 2) and nn.conv1d (spatial 1, the _w values), whose "
     "errors name fname; use those instead."},
    {NULL, NULL, NULL, NULL}};

void lnn_open_conv(lua_State *L) {
  lnn_register(L, "Convolutions", LNN_FUNC, conv_fns);
}
