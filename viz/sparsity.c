/*
** viz/sparsity.c: the sparsity panel.
**
** Columns are stored per layer, so that a layer that appears late only pads its own row.
** When there are more columns than pixels, each pixel column shows the mean of the columns
** that fall into it; with fewer, each column is a band of equal width.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz/axis.h"
#include "viz/color.h"
#include "viz/sparsity.h"
#include "viz/text.h"

void viz_sparsity_init(viz_sparsity *s) {
  memset(s, 0, sizeof *s);
}

void viz_sparsity_free(viz_sparsity *s) {
  for (int i = 0; i < s->n; i++) {
    free(s->layers[i].name);
    free(s->layers[i].frac);
    free(s->layers[i].dead);
  }
  free(s->layers);
  free(s->steps);
  viz_sparsity_init(s);
}

bool viz_sparsity_has_data(const viz_sparsity *s) {
  return s->ncol > 0 && s->n > 0;
}

static bool grow_layer(viz_layer *l, size_t cap) {
  double *frac = realloc(l->frac, sizeof *frac * cap);
  if (frac) l->frac = frac;
  int64_t *dead = realloc(l->dead, sizeof *dead * cap);
  if (dead) l->dead = dead;
  return frac && dead;
}

/* Room for one more column in every layer. */
static bool grow_columns(viz_sparsity *s) {
  if (s->ncol < s->colcap) return true;
  size_t cap = s->colcap ? 2 * s->colcap : 64;
  for (int i = 0; i < s->n; i++)
    if (!grow_layer(&s->layers[i], cap)) return false;
  double *steps = realloc(s->steps, sizeof *steps * cap);
  if (!steps) return false;
  s->steps = steps;
  s->colcap = cap;
  return true;
}

/* The row of name, added (with no data in the earlier columns) when new; -1 when out of
   memory. */
static int find_or_add(viz_sparsity *s, const char *name) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->layers[i].name, name) == 0) return i;
  if (s->n == s->cap) {
    int cap = s->cap ? 2 * s->cap : 8;
    viz_layer *grown = realloc(s->layers, sizeof *grown * (size_t)cap);
    if (!grown) return -1;
    s->layers = grown;
    s->cap = cap;
  }
  viz_layer l = {strdup(name), NULL, NULL};
  if (!l.name || !grow_layer(&l, s->colcap ? s->colcap : 1)) {
    free(l.name), free(l.frac), free(l.dead);
    return -1;
  }
  for (size_t k = 0; k < s->ncol; k++) l.frac[k] = NAN, l.dead[k] = -1;
  s->layers[s->n] = l;
  return s->n++;
}

int viz_sparsity_add(viz_sparsity *s, int n, const char *const *names, const double *frac,
                     const int64_t *dead, double step) {
  for (int i = 0; i < n; i++)
    if (find_or_add(s, names[i]) < 0) return -1;
  if (!grow_columns(s)) return -1;
  size_t k = s->ncol;
  for (int i = 0; i < s->n; i++) s->layers[i].frac[k] = NAN, s->layers[i].dead[k] = -1;
  for (int i = 0; i < n; i++) {
    viz_layer *l = &s->layers[find_or_add(s, names[i])];
    l->frac[k] = frac[i];
    l->dead[k] = dead ? dead[i] : -1;
  }
  s->steps[k] = step;
  s->ncol++;
  return 0;
}

/* ---- drawing ---- */

/* The mean of the known fractions of columns [c0, c1), NaN when none is known. */
static double bucket_mean(const viz_layer *l, size_t c0, size_t c1) {
  double sum = 0;
  int known = 0;
  for (size_t k = c0; k < c1; k++)
    if (!isnan(l->frac[k])) sum += l->frac[k], known++;
  return known ? sum / known : NAN;
}

/* The color scale: the range of the fractions shown, at least MIN_SPAN wide (within [0, 1]),
   so that the few points by which a layer's sparsity moves during training show as colors
   rather than one shade of the full 0..1 map. */
#define MIN_SPAN 0.1
typedef struct range {
  double lo, hi;
} range;

static range color_range(const viz_sparsity *s) {
  range r = {INFINITY, -INFINITY};
  for (int i = 0; i < s->n; i++)
    for (size_t k = 0; k < s->ncol; k++)
      if (!isnan(s->layers[i].frac[k]))
        r.lo = fmin(r.lo, s->layers[i].frac[k]), r.hi = fmax(r.hi, s->layers[i].frac[k]);
  if (!(r.lo <= r.hi)) return (range){0, 1};
  if (r.hi - r.lo < MIN_SPAN) {
    double mid = (r.lo + r.hi) / 2;
    r.lo = fmax(0, fmin(mid - MIN_SPAN / 2, 1 - MIN_SPAN));
    r.hi = r.lo + MIN_SPAN;
  }
  return r;
}

static viz_color shade(range r, double v) {
  return viz_colormap((v - r.lo) / (r.hi - r.lo));
}

static void heatmap(const viz_sparsity *s, viz_canvas *c, viz_rect area, range cr) {
  viz_picture(c, area);
  for (int px = 0; px < area.w; px++) {
    size_t c0 = (size_t)((double)px * s->ncol / area.w);
    size_t c1 = (size_t)((double)(px + 1) * s->ncol / area.w);
    if (c1 <= c0) c1 = c0 + 1;
    for (int i = 0; i < s->n; i++) {
      int y0 = area.y + i * area.h / s->n, y1 = area.y + (i + 1) * area.h / s->n;
      double v = bucket_mean(&s->layers[i], c0, c1);
      viz_color col = isnan(v) ? VIZ_MISSING : shade(cr, v);
      viz_fill_rect(c, (viz_rect){area.x + px, y0, 1, y1 - y0}, col, 1);
    }
  }
  if (!viz_text_in_cells() && area.h / s->n >= 8) /* thin gaps between the rows */
    for (int i = 1; i < s->n; i++)
      viz_fill_rect(c, (viz_rect){area.x, area.y + i * area.h / s->n, area.w, 1}, VIZ_PANEL, 1);
}

/* "62%  12 dead": a layer's last known fraction and dead count. */
static void stats_text(const viz_sparsity *s, const viz_layer *l, char *out, size_t n) {
  double frac = NAN;
  int64_t dead = -1;
  for (size_t k = s->ncol; k-- > 0 && (isnan(frac) || dead < 0);) {
    if (isnan(frac)) frac = l->frac[k];
    if (dead < 0) dead = l->dead[k];
  }
  int len = isnan(frac) ? snprintf(out, n, "-") : snprintf(out, n, "%.0f%%", 100 * frac);
  if (dead >= 0) snprintf(out + len, n - (size_t)len, "  %lld dead", (long long)dead);
}

static int stats_width(const viz_sparsity *s) {
  char stats[64];
  int widest = 0;
  for (int i = 0; i < s->n; i++) {
    stats_text(s, &s->layers[i], stats, sizeof stats);
    int w = viz_text_width(VIZ_SMALL, stats);
    widest = w > widest ? w : widest;
  }
  return widest;
}

static void row_texts(const viz_sparsity *s, viz_canvas *c, viz_rect area, int label_w,
                      int stats_w) {
  char stats[64];
  /* rows thinner than a line of text: label every k-th row */
  int every = (viz_text_height(VIZ_SMALL) * s->n + area.h - 1) / (area.h > 0 ? area.h : 1);
  for (int i = 0; i<s->n; i += every> 1 ? every : 1) {
    const viz_layer *l = &s->layers[i];
    int y = area.y + (2 * i + 1) * area.h / (2 * s->n);
    viz_text_fit(c, VIZ_SMALL, area.x - viz_sx(6), y, VIZ_RIGHT | VIZ_MIDDLE, VIZ_INK, l->name,
                 label_w - viz_sx(6));
    stats_text(s, l, stats, sizeof stats);
    viz_text_fit(c, VIZ_SMALL, area.x + area.w + viz_sx(6), y, VIZ_LEFT | VIZ_MIDDLE, VIZ_INK,
                 stats, stats_w - viz_sx(6));
  }
}

/* "55%", or "55.5%" when the scale is narrow */
static void percent(char *out, size_t n, double v, range r) {
  snprintf(out, n, r.hi - r.lo < 0.2 ? "%.1f%%" : "%.0f%%", 100 * v);
}

/* The color bar: the range's low end at the bottom, its high end at the top. */
static void color_bar(viz_canvas *c, viz_rect bar, range r) {
  viz_picture(c, bar);
  for (int y = 0; y < bar.h; y++)
    viz_fill_rect(c, (viz_rect){bar.x, bar.y + bar.h - 1 - y, bar.w, 1},
                  viz_colormap((double)y / (bar.h > 1 ? bar.h - 1 : 1)), 1);
  viz_frame_rect(c, (viz_rect){bar.x - 1, bar.y - 1, bar.w + 2, bar.h + 2}, VIZ_FRAME);
  for (int i = 0; i < 3; i++) {
    char label[16];
    percent(label, sizeof label, r.lo + (r.hi - r.lo) * i / 2, r);
    viz_text(c, VIZ_SMALL, bar.x + bar.w + viz_sx(4), bar.y + bar.h - 1 - i * (bar.h - 1) / 2,
             VIZ_LEFT | VIZ_MIDDLE, VIZ_MUTED, label);
  }
}

static void step_labels(const viz_sparsity *s, viz_canvas *c, viz_rect area) {
  char label[32];
  int y = area.y + area.h + viz_sy(4);
  viz_format_tick(label, sizeof label, s->steps[0], 1);
  viz_text(c, VIZ_SMALL, area.x, y, VIZ_LEFT | VIZ_TOP, VIZ_MUTED, label);
  if (s->ncol > 1) {
    viz_format_tick(label, sizeof label, s->steps[s->ncol - 1], 1);
    viz_text(c, VIZ_SMALL, area.x + area.w, y, VIZ_RIGHT | VIZ_TOP, VIZ_MUTED, label);
  }
  viz_text(c, VIZ_SMALL, area.x + area.w / 2, y, VIZ_CENTER | VIZ_TOP, VIZ_MUTED, "step");
}

void viz_sparsity_draw(const viz_sparsity *s, viz_canvas *c, viz_rect r) {
  char note[64];
  snprintf(note, sizeof note, "fraction of zeros, step %g", s->ncol ? s->steps[s->ncol - 1] : 0);
  viz_rect body = viz_panel(c, r, "activation sparsity", note);
  if (!s->n || !s->ncol) return;
  int widest = 0;
  for (int i = 0; i < s->n; i++) {
    int w = viz_text_width(VIZ_SMALL, s->layers[i].name);
    widest = w > widest ? w : widest;
  }
  int label_w = widest + viz_sx(8) < body.w / 4 ? widest + viz_sx(8) : body.w / 4;
  int stats_w = stats_width(s) + viz_sx(16);
  range cr = color_range(s);
  char widest_label[16];
  percent(widest_label, sizeof widest_label, cr.hi, cr);
  int bar_w = viz_sx(10), bar_gap = viz_sx(8) + viz_text_width(VIZ_SMALL, widest_label) + viz_sx(6);
  int small = viz_text_height(VIZ_SMALL);
  viz_rect area = {body.x + label_w, body.y + (viz_text_in_cells() ? 0 : small / 2), 0, 0};
  area.w = body.x + body.w - bar_gap - bar_w - stats_w - area.x;
  area.h = body.y + body.h - small - viz_sy(8) - area.y;
  if (area.w < 10 || area.h < s->n) return;
  heatmap(s, c, area, cr);
  viz_frame_rect(c, (viz_rect){area.x - 1, area.y - 1, area.w + 2, area.h + 2}, VIZ_FRAME);
  row_texts(s, c, area, label_w, stats_w);
  color_bar(c, (viz_rect){area.x + area.w + stats_w, area.y, bar_w, area.h}, cr);
  step_labels(s, c, area);
}
