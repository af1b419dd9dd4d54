/*
** viz/lpanels.c: the methods that feed the panels: v:plot, v:log, v:smoothing, v:labels,
** v:sparsity, v:activations and v:partition_image.
**
** Every method reads and checks all its arguments before it changes the view, so an error
** leaves the view as it was. Data calls only record and mark the view dirty; drawing happens
** in v:update or v:save.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "viz/lviz.h"
#include "viz/lvalues.h"

static void out_of_memory(lua_State *L, const char *fn) {
  viz_error(L, fn, "out of memory");
}

/* ---- loss curves ---- */

static const char *check_name(lua_State *L, int idx, const char *fn, const char *what) {
  if (lua_type(L, idx) != LUA_TSTRING)
    viz_error(L, fn, "%s must be a string, got %s", what, viz_describe(L, idx));
  return lua_tostring(L, idx);
}

/* (name, x, y) or (name, y) into the curve panel p: x defaults to 1, 2, ... after the last
   point. */
static void add_points(lua_State *L, const char *fn, viz_view *v, viz_plot *p) {
  lua_settop(L, 4); /* arrays read from the arguments are pushed above them */
  const char *name = check_name(L, 2, fn, "the series name");
  size_t nx, ny;
  double *x, *y;
  if (lua_isnoneornil(L, 4)) {
    y = viz_check_numbers(L, 3, fn, "y", &ny);
    x = lua_newuserdatauv(L, sizeof *x * (ny ? ny : 1), 0);
    double last = 0;
    viz_plot_last_x(p, name, &last);
    for (size_t k = 0; k < ny; k++) x[k] = last + 1 + (double)k;
    nx = ny;
  } else {
    x = viz_check_numbers(L, 3, fn, "x", &nx);
    y = viz_check_numbers(L, 4, fn, "y", &ny);
  }
  if (nx != ny) viz_error(L, fn, "x has %d values and y has %d", (int)nx, (int)ny);
  if (viz_plot_add(p, name, x, y, nx) < 0) out_of_memory(L, fn);
  v->dirty = true;
}

/* v:plot(name, x, y) or v:plot(name, y): the loss panel */
static int view_plot(lua_State *L) {
  viz_view *v = viz_check_view(L, "v:plot");
  add_points(L, "v:plot", v, &v->plot);
  return 0;
}

/* v:angles(name, x, y) or v:angles(name, y): the angles panel */
static int view_angles(lua_State *L) {
  viz_view *v = viz_check_view(L, "v:angles");
  add_points(L, "v:angles", v, &v->angles);
  return 0;
}

static int view_log(lua_State *L) {
  const char *fn = "v:log";
  viz_view *v = viz_check_view(L, fn);
  lua_settop(L, 2); /* arrays read from the arguments are pushed above them */
  if (!lua_isnoneornil(L, 2)) {
    if (!lua_isboolean(L, 2))
      viz_error(L, fn, "on must be true or false, got %s", viz_describe(L, 2));
    if (lua_toboolean(L, 2) != v->plot.log) viz_view_toggle_log(v);
  }
  lua_pushboolean(L, v->plot.log);
  return 1;
}

/* v:smoothing([w][, name]): the panel's weight, or with name that series' own (nil: the
   panel's again). */
static int view_smoothing(lua_State *L) {
  const char *fn = "v:smoothing";
  viz_view *v = viz_check_view(L, fn);
  lua_settop(L, 3);
  const char *name = lua_isnil(L, 3) ? NULL : check_name(L, 3, fn, "the series name");
  double w = lua_tonumber(L, 2);
  bool given = !lua_isnil(L, 2);
  if (given && (lua_type(L, 2) != LUA_TNUMBER || !(w >= 0 && w < 1)))
    viz_error(L, fn, "w must be a number in [0, 1), got %s", viz_describe(L, 2));
  if (name) {
    if (viz_plot_series_smoothing(&v->plot, name, given ? w : NAN) < 0) out_of_memory(L, fn);
    v->dirty = true;
  } else if (given) {
    viz_plot_set_smoothing(&v->plot, w);
    v->dirty = true;
  }
  lua_pushnumber(L, given ? w : v->plot.smoothing);
  return 1;
}

static int view_labels(lua_State *L) {
  const char *fn = "v:labels";
  viz_view *v = viz_check_view(L, fn);
  lua_settop(L, 3); /* arrays read from the arguments are pushed above them */
  const char *x = lua_isnoneornil(L, 2) ? NULL : check_name(L, 2, fn, "xlabel");
  const char *y = lua_isnoneornil(L, 3) ? NULL : check_name(L, 3, fn, "ylabel");
  if (viz_plot_labels(&v->plot, x, y) < 0) out_of_memory(L, fn);
  v->dirty = true;
  return 0;
}

/* v:right_axis(name[, label]) */
static int view_right_axis(lua_State *L) {
  const char *fn = "v:right_axis";
  viz_view *v = viz_check_view(L, fn);
  lua_settop(L, 3);
  const char *name = check_name(L, 2, fn, "the series name");
  const char *label = lua_isnil(L, 3) ? name : check_name(L, 3, fn, "label");
  if (viz_plot_right(&v->plot, name, label) < 0) out_of_memory(L, fn);
  v->dirty = true;
  return 0;
}

/* ---- sparsity ---- */

/* The strings of the table at idx, as pointers into Lua's strings (valid while the table
   is on the stack), in an array pushed on the stack. */
static const char **check_names(lua_State *L, int idx, const char *fn, int *n) {
  if (lua_type(L, idx) != LUA_TTABLE)
    viz_error(L, fn, "layers must be a table of names, got %s", viz_describe(L, idx));
  lua_Integer len = luaL_len(L, idx);
  if (len < 1 || len > 4096) viz_error(L, fn, "layers must hold 1 to 4096 names, got %d", (int)len);
  const char **names = lua_newuserdatauv(L, sizeof *names * (size_t)len, 0);
  for (lua_Integer i = 1; i <= len; i++) {
    if (lua_geti(L, idx, i) != LUA_TSTRING)
      viz_error(L, fn, "layers[%d] must be a string, got %s", (int)i, viz_describe(L, -1));
    names[i - 1] = lua_tostring(L, -1);
    lua_pop(L, 1); /* the string stays alive in the table */
  }
  *n = (int)len;
  return names;
}

/* The step of the next column: the argument, or one more than the last. */
static double check_step(lua_State *L, int idx, const char *fn, const viz_view *v) {
  if (lua_isnoneornil(L, idx))
    return v->sparsity.ncol ? v->sparsity.steps[v->sparsity.ncol - 1] + 1 : 1;
  double step = lua_tonumber(L, idx);
  if (lua_type(L, idx) != LUA_TNUMBER || !isfinite(step))
    viz_error(L, fn, "step must be a number, got %s", viz_describe(L, idx));
  return step;
}

static void add_column(lua_State *L, viz_view *v, const char *fn, int n, const char **names,
                       const double *frac, const int64_t *dead, double step) {
  if (viz_sparsity_add(&v->sparsity, n, names, frac, dead, step) < 0) out_of_memory(L, fn);
  v->dirty = true;
}

/* v:sparsity(layers, fractions[, dead][, step]) */
static int view_sparsity(lua_State *L) {
  const char *fn = "v:sparsity";
  viz_view *v = viz_check_view(L, fn);
  lua_settop(L, 5); /* arrays read from the arguments are pushed above them */
  int n;
  const char **names = check_names(L, 2, fn, &n);
  size_t nf, nd = (size_t)n;
  double *frac = viz_check_numbers(L, 3, fn, "fractions", &nf);
  int64_t *dead = lua_isnoneornil(L, 4) ? NULL : viz_check_integers(L, 4, fn, "dead", &nd);
  double step = check_step(L, 5, fn, v);
  if (nf != (size_t)n || nd != (size_t)n)
    viz_error(L, fn, "%d layers but %d fractions%s", n, (int)nf,
              nd != (size_t)n ? lua_pushfstring(L, " and %d dead counts", (int)nd) : "");
  for (int i = 0; i < n; i++) {
    if (!(frac[i] >= 0 && frac[i] <= 1))
      viz_error(L, fn, "fractions[%d] must be in [0, 1], got %g", i + 1, frac[i]);
    if (dead && dead[i] < 0)
      viz_error(L, fn, "dead[%d] must be a count (>= 0), got %lld", i + 1, (long long)dead[i]);
  }
  add_column(L, v, fn, n, names, frac, dead, step);
  return 0;
}

/* v:activations(layers, tensors[, step]): v:sparsity from the activations themselves. */
static int view_activations(lua_State *L) {
  const char *fn = "v:activations";
  viz_view *v = viz_check_view(L, fn);
  lua_settop(L, 4); /* arrays read from the arguments are pushed above them */
  int n;
  const char **names = check_names(L, 2, fn, &n);
  if (lua_type(L, 3) != LUA_TTABLE)
    viz_error(L, fn, "tensors must be a table of tensors, got %s", viz_describe(L, 3));
  if (luaL_len(L, 3) != n) viz_error(L, fn, "%d layers but %d tensors", n, (int)luaL_len(L, 3));
  double step = check_step(L, 4, fn, v);
  double *frac = lua_newuserdatauv(L, sizeof *frac * (size_t)n, 0);
  int64_t *dead = lua_newuserdatauv(L, sizeof *dead * (size_t)n, 0);
  for (int i = 0; i < n; i++) {
    lua_geti(L, 3, i + 1);
    int t = lua_gettop(L);
    viz_tensor_zeros(L, t, fn, lua_pushfstring(L, "tensors[%d]", i + 1), &frac[i], &dead[i]);
    lua_settop(L, t - 1);
  }
  add_column(L, v, fn, n, names, frac, dead, step);
  return 0;
}

/* ---- partition ---- */

static void check_lim(lua_State *L, int opts, const char *key, const char *fn, double *lim) {
  int top = lua_gettop(L);
  if (lua_getfield(L, opts, key) == LUA_TNIL) {
    lua_settop(L, top);
    return;
  }
  const char *what = lua_pushfstring(L, "opts.%s", key);
  size_t n;
  double *v = viz_check_numbers(L, top + 1, fn, what, &n);
  if (n != 2 || !isfinite(v[0]) || !isfinite(v[1]) || !(v[0] < v[1]))
    viz_error(L, fn, "%s must be {lo, hi} with lo < hi, got %s", what,
              n == 2 ? lua_pushfstring(L, "{%f, %f}", v[0], v[1]) : viz_describe(L, top + 1));
  lim[0] = v[0], lim[1] = v[1];
  lua_settop(L, top);
}

/* opts.points as (x, y) pairs; labels from opts.labels, or from each row's third element
   when points is a table of {x, y, label}. Pushes the arrays' owners. */
static void check_points(lua_State *L, int opts, const char *fn, viz_partition *p) {
  if (lua_getfield(L, opts, "points") == LUA_TNIL) return;
  int points = lua_gettop(L);
  size_t n, nl;
  p->points = viz_check_rows(L, points, fn, "opts.points", 2, &n);
  p->npoints = (int)n;
  if (lua_getfield(L, opts, "labels") != LUA_TNIL) {
    p->labels = viz_check_integers(L, -1, fn, "opts.labels", &nl);
    if (nl != n) viz_error(L, fn, "%d points but %d labels", (int)n, (int)nl);
    return;
  }
  if (lua_type(L, points) != LUA_TTABLE || n == 0) return;
  lua_geti(L, points, 1);
  bool labeled = lua_geti(L, -1, 3) != LUA_TNIL;
  lua_pop(L, 2);
  if (!labeled) return;
  p->labels = lua_newuserdatauv(L, sizeof *p->labels * n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_geti(L, points, (lua_Integer)i + 1);
    lua_geti(L, -1, 3);
    if (!lua_isinteger(L, -1))
      viz_error(L, fn, "opts.points[%d][3] must be an integer label, got %s", (int)i + 1,
                viz_describe(L, -1));
    p->labels[i] = lua_tointeger(L, -1);
    lua_pop(L, 2);
  }
}

/* Copies a Lua-owned array into malloc'd memory for the panel. */
static void *own(const void *src, size_t bytes, bool *ok) {
  if (!src) return NULL;
  void *dst = malloc(bytes ? bytes : 1);
  if (dst) memcpy(dst, src, bytes);
  *ok &= dst != NULL;
  return dst;
}

/* v:partition_image(ids[, opts]) */
static int view_partition_image(lua_State *L) {
  const char *fn = "v:partition_image";
  viz_view *v = viz_check_view(L, fn);
  lua_settop(L, 3); /* arrays read from the arguments are pushed above them */
  viz_partition in;
  viz_partition_init(&in);
  in.ids = viz_check_grid(L, 2, fn, "ids", &in.h, &in.w);
  in.xlim[0] = 1, in.xlim[1] = in.w > 1 ? in.w : 2; /* cell coordinates */
  in.ylim[0] = 1, in.ylim[1] = in.h > 1 ? in.h : 2;
  const char *title = NULL;
  if (!lua_isnoneornil(L, 3)) {
    if (lua_type(L, 3) != LUA_TTABLE)
      viz_error(L, fn, "opts must be a table, got %s", viz_describe(L, 3));
    static const char *const known[] = {"xlim",   "ylim",  "classes", "points",
                                        "labels", "title", "regions", NULL};
    viz_check_options(L, 3, fn, known);
    if (lua_getfield(L, 3, "regions") != LUA_TNIL) {
      if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
        viz_error(L, fn, "opts.regions must be a positive integer, got %s", viz_describe(L, -1));
      in.regions = lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    check_lim(L, 3, "xlim", fn, in.xlim);
    check_lim(L, 3, "ylim", fn, in.ylim);
    if (lua_getfield(L, 3, "classes") != LUA_TNIL) {
      int h, w;
      in.classes = viz_check_grid(L, -1, fn, "opts.classes", &h, &w);
      if (h != in.h || w != in.w)
        viz_error(L, fn, "opts.classes is %dx%d but ids is %dx%d", h, w, in.h, in.w);
    }
    if (lua_getfield(L, 3, "title") != LUA_TNIL) title = check_name(L, -1, fn, "opts.title");
    check_points(L, 3, fn, &in);
  }
  /* everything is checked: the panel gets its own copies */
  size_t cells = (size_t)in.h * (size_t)in.w, np = (size_t)in.npoints;
  bool ok = true;
  viz_partition fresh = in;
  fresh.ids = own(in.ids, sizeof *in.ids * cells, &ok);
  fresh.classes = own(in.classes, sizeof *in.classes * cells, &ok);
  fresh.points = own(in.points, sizeof *in.points * 2 * np, &ok);
  fresh.labels = own(in.labels, sizeof *in.labels * np, &ok);
  fresh.title = title ? strdup(title) : NULL;
  ok &= !title || fresh.title;
  if (!ok || viz_partition_set(&v->partition, &fresh) < 0) {
    viz_partition_free(&fresh);
    out_of_memory(L, fn);
  }
  v->dirty = true;
  return 0;
}

const viz_reg viz_panel_methods[] = {
    {"plot", view_plot, "v:plot(name, x, y) or v:plot(name, y)",
     "Adds points (numbers, tables or tensors) to the loss series name; x defaults to the "
     "steps after its last point."},
    {"angles", view_angles, "v:angles(name, x, y) or v:angles(name, y)",
     "Adds points to the series name (a layer) of the angles panel, a curve panel of its own: "
     "the angle in degrees between a learning rule's update and the true gradient, by step."},
    {"log", view_log, "v:log([on]) -> on",
     "Sets or reads the log scale of the loss panel (key l toggles it)."},
    {"smoothing", view_smoothing, "v:smoothing([w][, name]) -> w",
     "Sets or reads the weight w in [0, 1) of the debiased moving average drawn over each "
     "loss series (0.6; 0 draws the raw points only); with name, of that series alone (nil: "
     "the panel's again)."},
    {"labels", view_labels, "v:labels(xlabel, ylabel)",
     "Names the axes of the loss panel, which takes the y label as its title (nil keeps a label; "
     "defaults \"step\" and \"loss\")."},
    {"right_axis", view_right_axis, "v:right_axis(name[, label])",
     "Gives the loss panel's series name a y axis of its own, on the right, labeled label "
     "(name unless told): an accuracy beside a loss; its legend entry says (right)."},
    {"sparsity", view_sparsity, "v:sparsity(layers, fractions[, dead][, step])",
     "Adds a column to the sparsity heatmap: per layer name, the fraction of zero "
     "activations (0..1) and optionally its count of dead units."},
    {"activations", view_activations, "v:activations(layers, tensors[, step])",
     "Adds a sparsity column measured from activation tensors (samples x units...): the "
     "fraction of zeros and the units zero for every sample."},
    {"partition_image", view_partition_image,
     "v:partition_image(ids[, {xlim, ylim, classes, points, labels, title, regions}])",
     "Draws a grid of activation-pattern ids (row 1 at ylim[1], the bottom), one color per "
     "region, with the region count (opts.regions, or the grid's distinct ids), class boundary "
     "and labeled points."},
    {NULL, NULL, NULL, NULL},
};
