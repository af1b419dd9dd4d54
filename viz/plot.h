/*
** viz/plot.h: the loss panel, any number of named series of (x, y) points.
**
** Each series is drawn twice: the raw points as a thin faint line, and a smoothed line on
** top, TensorBoard's debiased exponential moving average:
**   ema_t = w * ema_{t-1} + (1 - w) * y_t,  ema_0 = 0;   smoothed_t = ema_t / (1 - w^t)
** (the division removes the pull towards 0 of the first points). Non-finite points are
** dropped when added, so one NaN loss does not wreck the axes. A series can have a y axis
** of its own on the right (an accuracy beside a loss), linear, fitted to its own range.
*/
#ifndef VIZ_PLOT_H
#define VIZ_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "viz/canvas.h"

typedef struct viz_series {
  char *name;
  viz_color color;
  double *x, *y, *smooth;
  size_t n, cap;
  double ema; /* the running average, before debiasing */
  double w;   /* the series' own smoothing weight, or NaN: the panel's */
  bool right; /* on the right axis */
} viz_series;

typedef struct viz_plot {
  viz_series *series;
  int n, cap;
  double smoothing; /* w in [0, 1) */
  bool log;         /* log-scale y */
  char *xlabel, *ylabel;
  char *title;  /* the panel's title; NULL: its y label */
  char *rlabel; /* the right axis's label (the axis is there when a series is on it) */
} viz_plot;

void viz_plot_init(viz_plot *p);
void viz_plot_free(viz_plot *p);
/* Appends n points to the series name (made on first use); -1 when out of memory. */
int viz_plot_add(viz_plot *p, const char *name, const double *x, const double *y, size_t n);
/* The x of the last point of the series name into *x; false when it has none. */
bool viz_plot_last_x(const viz_plot *p, const char *name, double *x);
void viz_plot_set_smoothing(viz_plot *p, double w); /* recomputes every smoothed line */
/* Gives the series name (made when new) its own weight w, or the panel's again when w is
   NaN (a few points per epoch want none); -1 when out of memory. */
int viz_plot_series_smoothing(viz_plot *p, const char *name, double w);
/* Sets the panel's title (NULL: the y label); -1 when out of memory. */
int viz_plot_title(viz_plot *p, const char *title);
/* Sets an axis label (NULL keeps the default); -1 when out of memory. */
int viz_plot_labels(viz_plot *p, const char *xlabel, const char *ylabel);
/* Puts the series name (made when new) on a y axis of its own, on the right, labeled label
   (NULL keeps the label): an accuracy in [0, 1] beside a loss. -1 when out of memory. */
int viz_plot_right(viz_plot *p, const char *name, const char *label);
bool viz_plot_has_data(const viz_plot *p);
void viz_plot_draw(const viz_plot *p, viz_canvas *c, viz_rect r);

#endif
