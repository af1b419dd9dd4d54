/*
** viz/axis.c: scales, nice ticks, labels and plot frames.
**
** Linear ticks step by 1, 2 or 5 times a power of ten, chosen so that about the asked number
** of ticks fits. Log ticks are the decades, with 2 and 5 in between when there are few
** decades, and linear ticks when the range lies within one decade.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "viz/axis.h"
#include "viz/color.h"
#include "viz/text.h"

void viz_scale_ready(viz_scale *s) {
  double a = s->log ? log10(s->lo) : s->lo, b = s->log ? log10(s->hi) : s->hi;
  s->gain = (s->p1 - s->p0) / (b - a);
  s->offset = s->p0 - a * s->gain;
}

void viz_scale_range(viz_scale *s, double lo, double hi, double frac) {
  if (!isfinite(lo) || !isfinite(hi) || lo > hi) lo = s->log ? 0.1 : 0, hi = s->log ? 10 : 1;
  if (s->log) {
    double a = log10(lo), b = log10(hi);
    if (b - a < 1e-9) a -= 0.5, b += 0.5;
    double pad = (b - a) * frac;
    s->lo = pow(10, a - pad), s->hi = pow(10, b + pad);
    viz_scale_ready(s);
    return;
  }
  if (hi - lo <= 1e-12 * fmax(fabs(lo), fabs(hi))) {
    double w = lo == 0 ? 1 : fabs(lo) * 0.1;
    lo -= w, hi += w;
  }
  double pad = (hi - lo) * frac;
  s->lo = lo - pad, s->hi = hi + pad;
  viz_scale_ready(s);
}

static double nice_step(double span, int about) {
  double raw = span / (about > 1 ? about : 1), p = pow(10, floor(log10(raw))), f = raw / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

static int linear_ticks(double lo, double hi, int about, double *ticks, double *step) {
  *step = nice_step(hi - lo, about);
  int n = 0;
  for (double k = ceil(lo / *step - 1e-9); n < VIZ_MAXTICKS; k++) {
    double v = k * *step;
    if (v > hi + 1e-9 * *step) break;
    ticks[n++] = fabs(v) < 1e-12 * *step ? 0 : v;
  }
  return n;
}

/* m x 10^k for the mantissas in ms, inside [lo, hi]. */
static int decade_ticks(double lo, double hi, const int *ms, int nm, double *ticks) {
  int n = 0;
  for (int k = (int)floor(log10(lo)); k <= (int)ceil(log10(hi)) && n < VIZ_MAXTICKS; k++)
    for (int i = 0; i < nm && n < VIZ_MAXTICKS; i++) {
      double v = ms[i] * pow(10, k);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks[n++] = v;
    }
  return n;
}

int viz_ticks(const viz_scale *s, int about, double *ticks, double *step) {
  if (!s->log) return linear_ticks(s->lo, s->hi, about, ticks, step);
  *step = 0;
  double decades = log10(s->hi) - log10(s->lo);
  static const int ones[] = {1}, fives[] = {1, 2, 5};
  int n = decade_ticks(s->lo, s->hi, ones, 1, ticks);
  if (n > about) { /* too many decades: every other one, or fewer */
    int every = (n + about - 1) / about, m = 0;
    for (int i = 0; i < n; i++)
      if ((int)lround(log10(ticks[i])) % every == 0) ticks[m++] = ticks[i];
    return m;
  }
  if (decades <= 3 && n < about) n = decade_ticks(s->lo, s->hi, fives, 3, ticks);
  if (n < 2) return linear_ticks(s->lo, s->hi, about, ticks, step);
  return n;
}

void viz_format_tick(char *buf, size_t n, double v, double step) {
  double a = fabs(v);
  if (step == 0 || (v != 0 && (a >= 1e6 || a < 1e-4)))
    snprintf(buf, n, "%.3g", v); /* log ticks and extreme magnitudes */
  else if (a >= 10000 && fmod(step, 1000) == 0)
    snprintf(buf, n, "%gk", v / 1000);
  else {
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, n, "%.*f", decimals, v);
  }
}

/* The pixel of a tick at p in [start, start + len], the far edge drawn on the last pixel;
   -1 when outside. */
static int edge_px(double p, int start, int len) {
  int k = (int)floor(p + 1e-6);
  if (k < start || k > start + len) return -1;
  return k < start + len ? k : start + len - 1;
}

static void x_ticks(viz_canvas *c, viz_rect area, const viz_scale *xs) {
  double ticks[VIZ_MAXTICKS], step;
  int n = viz_ticks(xs, area.w / viz_sx(90) + 1, ticks, &step);
  char label[32];
  for (int i = 0; i < n; i++) {
    int x = edge_px(viz_scale_px(xs, ticks[i]), area.x, area.w);
    if (x < 0) continue;
    viz_fill_rect(c, (viz_rect){x, area.y, 1, area.h}, VIZ_GRID, 1);
    viz_fill_rect(c, (viz_rect){x, area.y + area.h, 1, viz_sy(4)}, VIZ_FRAME, 1);
    viz_format_tick(label, sizeof label, ticks[i], step);
    viz_text(c, VIZ_SMALL, x, area.y + area.h + viz_sy(5), VIZ_CENTER | VIZ_TOP, VIZ_MUTED, label);
  }
}

/* Returns the width of the widest label, for placing the axis label. */
static int y_ticks(viz_canvas *c, viz_rect area, const viz_scale *ys) {
  double ticks[VIZ_MAXTICKS], step;
  int n = viz_ticks(ys, area.h / viz_sy(45) + 1, ticks, &step), widest = 0;
  char label[32];
  for (int i = 0; i < n; i++) {
    int y = edge_px(viz_scale_px(ys, ticks[i]), area.y, area.h);
    if (y < 0) continue;
    viz_fill_rect(c, (viz_rect){area.x, y, area.w, 1}, VIZ_GRID, 1);
    viz_fill_rect(c, (viz_rect){area.x - viz_sx(4), y, viz_sx(4), 1}, VIZ_FRAME, 1);
    viz_format_tick(label, sizeof label, ticks[i], step);
    int w = viz_text(c, VIZ_SMALL, area.x - viz_sx(6), y, VIZ_RIGHT | VIZ_MIDDLE, VIZ_MUTED, label);
    widest = w > widest ? w : widest;
  }
  return widest;
}

void viz_axes(viz_canvas *c, viz_rect area, const viz_scale *xs, const viz_scale *ys,
              const char *xlabel, const char *ylabel) {
  viz_fill_rect(c, area, VIZ_PANEL, 1);
  if (xs) x_ticks(c, area, xs);
  int widest = ys ? y_ticks(c, area, ys) : 0;
  viz_frame_rect(c, (viz_rect){area.x - 1, area.y - 1, area.w + 2, area.h + 2}, VIZ_FRAME);
  int small = viz_text_height(VIZ_SMALL);
  if (xlabel)
    viz_text(c, VIZ_SMALL, area.x + area.w / 2, area.y + area.h + viz_sy(6) + small, VIZ_CENTER,
             VIZ_MUTED, xlabel);
  if (ylabel)
    viz_text_up(c, VIZ_SMALL, area.x - viz_sx(10) - widest - viz_text_up_width(VIZ_SMALL) / 2,
                area.y + area.h / 2, VIZ_MUTED, ylabel);
}

void viz_axis_right(viz_canvas *c, viz_rect area, const viz_scale *ys, const char *label) {
  double ticks[VIZ_MAXTICKS], step;
  int n = viz_ticks(ys, area.h / viz_sy(45) + 1, ticks, &step), widest = 0, x = area.x + area.w;
  char text[32];
  for (int i = 0; i < n; i++) {
    int y = edge_px(viz_scale_px(ys, ticks[i]), area.y, area.h);
    if (y < 0) continue;
    viz_fill_rect(c, (viz_rect){x, y, viz_sx(4), 1}, VIZ_FRAME, 1);
    viz_format_tick(text, sizeof text, ticks[i], step);
    int w = viz_text(c, VIZ_SMALL, x + viz_sx(6), y, VIZ_LEFT | VIZ_MIDDLE, VIZ_MUTED, text);
    widest = w > widest ? w : widest;
  }
  if (label)
    viz_text_up(c, VIZ_SMALL, x + viz_sx(10) + widest + viz_text_up_width(VIZ_SMALL) / 2,
                area.y + area.h / 2, VIZ_MUTED, label);
}

viz_rect viz_panel(viz_canvas *c, viz_rect r, const char *title, const char *note) {
  viz_fill_rect(c, r, VIZ_PANEL, 1);
  viz_frame_rect(c, r, VIZ_FRAME);
  if (viz_text_in_cells()) { /* the title on the top line of the frame */
    int th = viz_text_height(VIZ_TITLE), pad = viz_sx(8);
    int tw = viz_text(c, VIZ_TITLE, r.x + pad, r.y, VIZ_LEFT | VIZ_TOP, VIZ_INK, title);
    if (note)
      viz_text_fit(c, VIZ_NORMAL, r.x + r.w - pad, r.y, VIZ_RIGHT | VIZ_TOP, VIZ_MUTED, note,
                   r.w - 3 * pad - tw);
    return (viz_rect){r.x + pad, r.y + th, r.w - 2 * pad, r.h - th - viz_sy(4)};
  }
  int th = viz_text_height(VIZ_TITLE), pad = 8;
  int tw = viz_text(c, VIZ_TITLE, r.x + pad, r.y + pad, VIZ_LEFT | VIZ_TOP, VIZ_INK, title);
  if (note)
    viz_text_fit(c, VIZ_NORMAL, r.x + r.w - pad, r.y + pad + th / 2, VIZ_RIGHT | VIZ_MIDDLE,
                 VIZ_MUTED, note, r.w - 3 * pad - tw);
  int top = pad + th + 4;
  return (viz_rect){r.x + pad, r.y + top, r.w - 2 * pad, r.h - top - pad};
}
