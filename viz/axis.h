/*
** viz/axis.h: scales, nice ticks and the frame of a plot (shared by all panels).
*/
#ifndef VIZ_AXIS_H
#define VIZ_AXIS_H

#include <stdbool.h>
#include <math.h>
#include <stddef.h>

#include "viz/canvas.h"

enum { VIZ_MAXTICKS = 32 };

/* Maps data values in [lo, hi] to pixels p0..p1 (p1 < p0 for y, which grows downwards). */
typedef struct viz_scale {
  double lo, hi;
  bool log; /* log10 spacing; then 0 < lo */
  double p0, p1;
  double offset, gain; /* pixel = offset + gain * v (or log10 v): set by viz_scale_ready */
} viz_scale;

/* Computes the mapping after lo, hi, log, p0 or p1 changed (viz_scale_range calls it). */
void viz_scale_ready(viz_scale *s);
/* The pixel of v; NaN when v cannot be shown (v <= 0 on a log scale, or not finite). */
static inline double viz_scale_px(const viz_scale *s, double v) {
  if (s->log) v = v > 0 ? log10(v) : NAN;
  return s->offset + s->gain * v; /* NaN and infinities stay so: the callers test isfinite */
}
/* Makes [lo, hi] a usable range: widened when empty, padded by frac of its span (in log
   space on a log scale). */
void viz_scale_range(viz_scale *s, double lo, double hi, double frac);

/* Nice tick positions in [lo, hi] (1-2-5 steps, or decades on a log scale), about
   `about` of them; returns how many, and the step (0 on a log scale). */
int viz_ticks(const viz_scale *s, int about, double *ticks, double *step);
/* A tick label: as few digits as the step needs; 12k for 12000, 1e-05 for tiny values. */
void viz_format_tick(char *buf, size_t n, double v, double step);

/* A y axis on the right of area: ticks and their labels (no grid: the left axis has it), the
   label upwards beyond them (NULL for none). */
void viz_axis_right(viz_canvas *c, viz_rect area, const viz_scale *ys, const char *label);

/* A panel: its background and frame, the title at the top left and a note (NULL for none)
   at the top right; returns the space below the title. */
viz_rect viz_panel(viz_canvas *c, viz_rect r, const char *title, const char *note);

/* The frame of a plot area: background, grid lines at the ticks, tick labels below and left,
   axis labels (NULL for none). */
void viz_axes(viz_canvas *c, viz_rect area, const viz_scale *xs, const viz_scale *ys,
              const char *xlabel, const char *ylabel);

#endif
