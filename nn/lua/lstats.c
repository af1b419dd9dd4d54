/*
** nn/lua/lstats.c: the C kernels of nn.stats (nn/stats.h). They go in the table nn.stats,
** made here; stdlib/nn/stats.lua adds the analyses of whole models (sparsity per layer,
** dead units, regions) to the same table. Region labels come back 1-based.
*/
#include <lauxlib.h>

#include "nn/lua/lnn.h"
#include "nn/stats.h"

static int l_count_zeros(lua_State *L) {
  lua_pushinteger(L, nn_stats_count_zeros(lnn_check(L, 1)));
  return 1;
}

/* active(h [, mask]): mask |= units active on some sample of h; a new mask when none */
static int l_active(lua_State *L) {
  nn_tensor *h = lnn_check(L, 1);
  nn_tensor *mask = lnn_opt(L, 2);
  if (!mask) {
    lnn_push(L, nn_stats_active(h));
    return 1;
  }
  if (nn_stats_active_(mask, h) < 0) lnn_error(L, NULL);
  lua_settop(L, 2);
  return 1;
}

static int l_dead_count(lua_State *L) {
  int64_t dead = nn_stats_dead_count(lnn_check(L, 1));
  if (dead < 0) lnn_error(L, NULL);
  lua_pushinteger(L, dead);
  return 1;
}

static int l_units(lua_State *L) {
  lua_pushinteger(L, nn_stats_units(lnn_check(L, 1)));
  return 1;
}

static int l_active_units(lua_State *L) {
  lua_pushinteger(L, nn_stats_active_units(lnn_check(L, 1)));
  return 1;
}

/* The tensors of a list at arg 1, or of the arguments from 1 on, into an array that lives
   in a userdata on the stack (collected with it). Returns the count. */
static int layer_list(lua_State *L, nn_tensor ***hs) {
  bool list = lua_type(L, 1) == LUA_TTABLE;
  int n = list ? (int)lua_rawlen(L, 1) : lua_gettop(L);
  *hs = lua_newuserdatauv(L, (n > 0 ? n : 1) * sizeof **hs, 0);
  for (int l = 0; l < n; l++) {
    if (list) lua_rawgeti(L, 1, l + 1);
    nn_tensor *t = lnn_test(L, list ? -1 : l + 1);
    if (!t)
      lnn_errorf(L, "layer %d is a %s, not a tensor", l + 1, luaL_typename(L, list ? -1 : l + 1));
    if (list) lua_pop(L, 1); /* the list keeps the tensor alive */
    (*hs)[l] = t;
  }
  return n;
}

static int l_pattern_ids(lua_State *L) {
  nn_tensor **hs;
  int n = layer_list(L, &hs);
  lnn_push(L, nn_stats_pattern_ids(hs, n));
  return 1;
}

/* flips({h1, h2, ...} [, closed]) */
static int l_flips(lua_State *L) {
  if (lua_type(L, 1) != LUA_TTABLE) lnn_argerror(L, 1, "a list of tensors");
  bool closed = lua_toboolean(L, 2);
  lua_settop(L, 1);
  nn_tensor **hs;
  int n = layer_list(L, &hs);
  int64_t flips = nn_stats_flips(hs, n, closed);
  if (flips < 0) lnn_error(L, NULL);
  lua_pushinteger(L, flips);
  return 1;
}

/* distinct(ids) -> count, labels (1-based ranks of first appearance) */
static int l_distinct(lua_State *L) {
  nn_tensor *labels = NULL;
  int64_t count = nn_stats_distinct(lnn_check(L, 1), &labels);
  if (count < 0) lnn_error(L, NULL);
  lua_pushinteger(L, count);
  lnn_push_index1(L, labels);
  return 2;
}

static int l_changes(lua_State *L) {
  int64_t changes = nn_stats_changes(lnn_check(L, 1), lua_toboolean(L, 2));
  if (changes < 0) lnn_error(L, NULL);
  lua_pushinteger(L, changes);
  return 1;
}

static int l_path_length(lua_State *L) {
  double length = nn_stats_path_length(lnn_check(L, 1), lua_toboolean(L, 2));
  if (length < 0) lnn_error(L, NULL);
  lua_pushnumber(L, length);
  return 1;
}

static const lnn_reg kernels[] = {
    {"stats.count_zeros", l_count_zeros, "nn.stats.count_zeros(t) -> integer",
     "The number of elements of t that are exactly zero (any dtype; NaN is not zero)."},
    {"stats.units", l_units, "nn.stats.units(h) -> integer",
     "The units of an activation tensor: the product of its dims after the first (the first "
     "counts samples; a 1-D tensor is one sample)."},
    {"stats.active_units", l_active_units, "nn.stats.active_units(h) -> integer",
     "The units of h that can be active or dead: nn.stats.units(h), except for the feature "
     "maps of convolutions, (N, C, H, W) and more dims, whose units are the C channels."},
    {"stats.active", l_active, "nn.stats.active(h [, mask]) -> mask",
     "A u8 mask of the units of h (samples x units...) that are > 0 on at least one sample; "
     "with mask, ORs into it in place, to accumulate over a window of batches. A feature map "
     "(N, C, H, W) has a unit per channel, active where any of its positions is > 0."},
    {"stats.dead_count", l_dead_count, "nn.stats.dead_count(h) -> integer",
     "The number of units of h (samples x units..., channels of a feature map) that are > 0 "
     "on no sample of the batch."},
    {"stats.pattern_ids", l_pattern_ids, "nn.stats.pattern_ids({h1, h2, ...}) -> ids",
     "The activation pattern of each of N samples as a 64-bit hash (an i64 tensor of N): "
     "h1, h2, ... are the layers' activations (N x units), a unit is on where > 0."},
    {"stats.flips", l_flips, "nn.stats.flips({h1, h2, ...} [, closed]) -> integer",
     "The unit sign changes (> 0 or not) between consecutive samples of the layers' "
     "activations (N x units); along a finely sampled path, the piece boundaries crossed."},
    {"stats.distinct", l_distinct, "nn.stats.distinct(ids) -> count, labels",
     "The number of distinct values of a 1-D integer tensor, and each element's label: "
     "1 + the number of distinct values that first appear before it (i64)."},
    {"stats.changes", l_changes, "nn.stats.changes(ids [, closed]) -> integer",
     "How many consecutive elements of a 1-D integer tensor differ; closed also compares "
     "the last with the first (pattern changes along a sampled path)."},
    {"stats.path_length", l_path_length, "nn.stats.path_length(points [, closed]) -> number",
     "The length of the polyline through the rows of points (N x d...), back to the first "
     "when closed; in f64."},
    {NULL, NULL, NULL, NULL}};

void lnn_open_stats(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, "nn.module");
  lua_newtable(L);
  for (const lnn_reg *r = kernels; r->name; r++) {
    lua_pushcfunction(L, r->func);
    lua_pushvalue(L, -1);
    lnn_register_top(L, "Analyses", 0, r); /* documented only: it lives in nn.stats */
    lua_setfield(L, -2, r->name + sizeof "stats." - 1);
  }
  lua_setfield(L, -2, "stats");
  lua_pop(L, 1);
}
