/*
** viz/plot.c: the loss panel.
**
** A series can grow to millions of points, more than the panel has pixel columns. Lines are
** drawn column by column: the points that fall into one pixel column become one vertical
** stroke from their minimum to their maximum, joined to the neighbouring columns, which
** looks the same as drawing every segment and costs the width of the panel.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz/axis.h"
#include "viz/color.h"
#include "viz/plot.h"
#include "viz/text.h"

#define RAW_WIDTH    1.0
#define SMOOTH_WIDTH 1.8
#define RAW_FADE     0.68 /* raw lines: the series color, this far towards white */

void viz_plot_init(viz_plot *p) {
  memset(p, 0, sizeof *p);
  p->smoothing = 0.6;
}

void viz_plot_free(viz_plot *p) {
  for (int i = 0; i < p->n; i++) {
    viz_series *s = &p->series[i];
    free(s->name);
    free(s->x);
    free(s->y);
    free(s->smooth);
  }
  free(p->series);
  free(p->xlabel);
  free(p->ylabel);
  free(p->title);
  free(p->rlabel);
  viz_plot_init(p);
}

bool viz_plot_has_data(const viz_plot *p) {
  for (int i = 0; i < p->n; i++)
    if (p->series[i].n) return true;
  return false;
}

/* "train" is blue and "val" orange whatever their order; other series take the first
   color no series has, the conventional two last. */
static viz_color pick_color(const viz_plot *p, const char *name) {
  static const char *const conventional[] = {"train", "val"};
  for (int i = 0; i < 2; i++)
    if (strcmp(name, conventional[i]) == 0) return viz_palette(i);
  for (int k = 2; k < VIZ_NPALETTE + 2; k++) {
    viz_color c = viz_palette(k);
    bool used = false;
    for (int i = 0; i < p->n; i++) used |= p->series[i].color == c;
    if (!used) return c;
  }
  return viz_palette(p->n);
}

static viz_series *find(const viz_plot *p, const char *name) {
  for (int i = 0; i < p->n; i++)
    if (strcmp(p->series[i].name, name) == 0) return &p->series[i];
  return NULL;
}

bool viz_plot_last_x(const viz_plot *p, const char *name, double *x) {
  const viz_series *s = find(p, name);
  if (!s || !s->n) return false;
  *x = s->x[s->n - 1];
  return true;
}

static viz_series *find_or_add(viz_plot *p, const char *name) {
  viz_series *s = find(p, name);
  if (s) return s;
  if (p->n == p->cap) {
    int cap = p->cap ? 2 * p->cap : 4;
    viz_series *grown = realloc(p->series, sizeof *grown * (size_t)cap);
    if (!grown) return NULL;
    p->series = grown;
    p->cap = cap;
  }
  char *copy = strdup(name);
  if (!copy) return NULL;
  s = &p->series[p->n];
  *s = (viz_series){.name = copy, .color = pick_color(p, name), .w = NAN};
  p->n++;
  return s;
}

static bool reserve(viz_series *s, size_t more) {
  if (s->n + more <= s->cap) return true;
  size_t cap = s->cap ? s->cap : 64;
  while (cap < s->n + more) cap *= 2;
  double *arrays[3] = {s->x, s->y, s->smooth};
  for (int i = 0; i < 3; i++) {
    double *grown = realloc(arrays[i], sizeof *grown * cap);
    if (!grown) return false; /* the ones already grown are kept: still valid */
    arrays[i] = grown;
    if (i == 0) s->x = grown;
    if (i == 1) s->y = grown;
    if (i == 2) s->smooth = grown;
  }
  s->cap = cap;
  return true;
}

static double weight(const viz_plot *p, const viz_series *s) {
  return isnan(s->w) ? p->smoothing : s->w;
}

/* The debiased average after the k-th point (1-based) of value y. */
static double smooth_next(viz_series *s, double w, size_t k, double y) {
  s->ema = w * s->ema + (1 - w) * y;
  double bias = 1 - pow(w, (double)k);
  return bias > 0 ? s->ema / bias : y;
}

int viz_plot_add(viz_plot *p, const char *name, const double *x, const double *y, size_t n) {
  viz_series *s = find_or_add(p, name);
  if (!s || !reserve(s, n)) return -1;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i])) continue;
    s->x[s->n] = x[i];
    s->y[s->n] = y[i];
    s->smooth[s->n] = smooth_next(s, weight(p, s), s->n + 1, y[i]);
    s->n++;
  }
  return 0;
}

static void resmooth(const viz_plot *p, viz_series *s) {
  s->ema = 0;
  for (size_t k = 0; k < s->n; k++) s->smooth[k] = smooth_next(s, weight(p, s), k + 1, s->y[k]);
}

void viz_plot_set_smoothing(viz_plot *p, double w) {
  p->smoothing = w;
  for (int i = 0; i < p->n; i++) resmooth(p, &p->series[i]);
}

int viz_plot_series_smoothing(viz_plot *p, const char *name, double w) {
  viz_series *s = find_or_add(p, name);
  if (!s) return -1;
  s->w = w;
  resmooth(p, s);
  return 0;
}

static int set_label(char **slot, const char *text) {
  if (!text) return 0;
  char *copy = strdup(text);
  if (!copy) return -1;
  free(*slot);
  *slot = copy;
  return 0;
}

int viz_plot_labels(viz_plot *p, const char *xlabel, const char *ylabel) {
  return set_label(&p->xlabel, xlabel) < 0 || set_label(&p->ylabel, ylabel) < 0 ? -1 : 0;
}

int viz_plot_title(viz_plot *p, const char *title) {
  return set_label(&p->title, title);
}

int viz_plot_right(viz_plot *p, const char *name, const char *label) {
  viz_series *s = find_or_add(p, name);
  if (!s || set_label(&p->rlabel, label) < 0) return -1;
  s->right = true;
  return 0;
}

static bool has_right(const viz_plot *p) {
  for (int i = 0; i < p->n; i++)
    if (p->series[i].right && p->series[i].n) return true;
  return false;
}

/* ---- drawing ---- */

/* The x range of every series, and the y range of those on one axis (y > 0 only on a log
   scale, which is the left axis's). */
static void data_range(const viz_plot *p, bool right, double *x0, double *x1, double *y0,
                       double *y1) {
  *x0 = *y0 = INFINITY;
  *x1 = *y1 = -INFINITY;
  for (int i = 0; i < p->n; i++) {
    const viz_series *s = &p->series[i];
    for (size_t k = 0; k < s->n; k++) {
      *x0 = fmin(*x0, s->x[k]), *x1 = fmax(*x1, s->x[k]);
      if (s->right != right || (!right && p->log && s->y[k] <= 0)) continue;
      *y0 = fmin(*y0, s->y[k]), *y1 = fmax(*y1, s->y[k]);
    }
  }
}

/* One pixel column's worth of a polyline. */
typedef struct column {
  int x;                        /* the column; INT_MIN: none yet */
  double first, last, min, max; /* y pixels */
  double fx, lx;                /* x pixels of the first and last point */
  int count;
} column;

typedef struct pen {
  viz_canvas *c;
  viz_color color;
  double width;
  bool have_prev; /* the last point of the previous column, to join to */
  double px, py;
} pen;

static void flush(pen *pn, column *col) {
  if (!col->count) return;
  if (pn->have_prev) viz_line(pn->c, pn->px, pn->py, col->fx, col->first, pn->width, pn->color, 1);
  if (col->count > 1) {
    double x = col->x + 0.5;
    viz_line(pn->c, x, col->min, x, col->max, pn->width, pn->color, 1);
  } else if (!pn->have_prev) {
    viz_fill_circle(pn->c, col->fx, col->first, pn->width, pn->color, 1); /* lone point */
  }
  pn->have_prev = true;
  pn->px = col->lx, pn->py = col->last;
  col->count = 0;
}

static void polyline(pen *pn, const viz_scale *xs, const viz_scale *ys, const double *x,
                     const double *y, size_t n) {
  column col = {.count = 0};
  pn->have_prev = false;
  for (size_t k = 0; k < n; k++) {
    double px = viz_scale_px(xs, x[k]), py = viz_scale_px(ys, y[k]);
    if (!isfinite(px) || !isfinite(py)) { /* not drawable (log scale): break the line */
      flush(pn, &col);
      pn->have_prev = false;
      continue;
    }
    int cx = (int)floor(px);
    if (col.count && cx != col.x) flush(pn, &col);
    if (!col.count) col = (column){cx, py, py, py, py, px, px, 0};
    col.last = py, col.lx = px;
    col.min = fmin(col.min, py), col.max = fmax(col.max, py);
    col.count++;
  }
  flush(pn, &col);
}

/* "train  0.1234": a series' name and its latest smoothed value. */
static void legend_label(const viz_series *s, char *out, size_t n) {
  snprintf(out, n, "%s%s  %.4g", s->name, s->right ? " (right)" : "", s->smooth[s->n - 1]);
}

/* The legend, top right in the plot area: as many series as fit in its height (then
   "+N more"), at most half its width. */
static void legend(const viz_plot *p, viz_canvas *c, viz_rect area) {
  int lh = viz_text_height(VIZ_SMALL) + viz_sy(2), swatch = viz_sx(16), pad = viz_sx(6);
  int wmax = 0, total = 0;
  char label[160];
  for (int i = 0; i < p->n; i++) {
    if (!p->series[i].n) continue;
    legend_label(&p->series[i], label, sizeof label);
    int w = viz_text_width(VIZ_SMALL, label);
    wmax = w > wmax ? w : wmax;
    total++;
  }
  int fit = (area.h - viz_sy(12) - 2 * viz_sy(6)) / lh, rows = total <= fit ? total : fit;
  if (rows < 1) return;
  int textw = wmax < area.w / 2 ? wmax : area.w / 2;
  viz_rect box = {0, area.y + viz_sy(6), swatch + viz_sx(6) + textw + 2 * pad,
                  rows * lh + 2 * viz_sy(6) - viz_sy(2)};
  box.x = area.x + area.w - box.w - viz_sx(6);
  viz_fill_rect(c, box, VIZ_PANEL, 0.88);
  viz_frame_rect(c, box, VIZ_GRID);
  int y = box.y + viz_sy(6), drawn = 0;
  for (int i = 0; i < p->n && drawn < rows; i++) {
    const viz_series *s = &p->series[i];
    if (!s->n) continue;
    int tx = box.x + pad + swatch + viz_sx(6);
    if (drawn == rows - 1 && rows < total) { /* the last row says what is left out */
      snprintf(label, sizeof label, "+%d more", total - drawn);
      viz_text(c, VIZ_SMALL, tx, y, VIZ_LEFT | VIZ_TOP, VIZ_MUTED, label);
      break;
    }
    double my = y + lh / 2.0 - 1;
    viz_line(c, box.x + pad, my, box.x + pad + swatch, my, 2.5, s->color, 1);
    legend_label(s, label, sizeof label);
    viz_text_fit(c, VIZ_SMALL, tx, y, VIZ_LEFT | VIZ_TOP, VIZ_INK, label, textw);
    y += lh;
    drawn++;
  }
}

void viz_plot_draw(const viz_plot *p, viz_canvas *c, viz_rect r) {
  /* the panel is named after what it shows: its title or y label, "loss" unless told */
  const char *title = p->title ? p->title : p->ylabel ? p->ylabel : "loss";
  viz_rect body = viz_panel(c, r, title, p->log ? "log scale" : NULL);
  int small = viz_text_height(VIZ_SMALL), up = viz_text_up_width(VIZ_SMALL);
  bool right = has_right(p), cells = viz_text_in_cells();
  int margin = (cells ? 0 : 2 * up) + viz_sx(40); /* for the ticks and the label of an axis */
  viz_rect area = {body.x + margin, body.y + viz_sy(4), 0, 0};
  area.w = body.x + body.w - area.x - viz_sx(6) - (right ? margin : 0);
  area.h = body.y + body.h - area.y - 2 * small - viz_sy(10);
  if (area.w < viz_sx(20) || area.h < viz_sy(20)) return;
  double x0, x1, y0, y1, r0, r1;
  data_range(p, false, &x0, &x1, &y0, &y1);
  data_range(p, true, &x0, &x1, &r0, &r1);
  viz_scale xs = {.p0 = area.x, .p1 = area.x + area.w}, ys = {.log = p->log}, rs = {.log = false};
  ys.p0 = rs.p0 = area.y + area.h, ys.p1 = rs.p1 = area.y;
  viz_scale_range(&xs, x0, x1, 0);
  viz_scale_range(&ys, y0, y1, 0.05);
  viz_scale_range(&rs, r0, r1, 0.05);
  viz_axes(c, area, &xs, &ys, p->xlabel ? p->xlabel : "step", p->ylabel ? p->ylabel : "loss");
  if (right) viz_axis_right(c, area, &rs, p->rlabel);
  viz_rect saved = c->clip;
  viz_canvas_clip(c, area);
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < p->n; i++) {
      const viz_series *s = &p->series[i];
      if (pass == 0 && !(weight(p, s) > 0)) continue; /* unsmoothed: the raw line only */
      pen pn = {c, s->color, SMOOTH_WIDTH, false, 0, 0};
      if (pass == 0) pn.color = viz_mix(s->color, VIZ_PANEL, RAW_FADE), pn.width = RAW_WIDTH;
      polyline(&pn, &xs, s->right ? &rs : &ys, s->x, pass == 0 ? s->y : s->smooth, s->n);
    }
  c->clip = saved;
  legend(p, c, area);
}
