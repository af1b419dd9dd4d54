/*
** viz/partition.c: the partition panel.
**
** The grid is drawn cell by cell at the pixel level (nearest cell for each pixel), and the
** boundaries are found in pixel space: a pixel whose cell differs from its right or lower
** neighbour's is on a boundary. This keeps lines one pixel thin at any grid resolution.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz/axis.h"
#include "viz/color.h"
#include "viz/partition.h"
#include "viz/text.h"

#define REGION_LINE   0x30343a
#define DECISION_LINE 0x15171a
#define MARKER_RADIUS 4.0

void viz_partition_init(viz_partition *p) {
  memset(p, 0, sizeof *p);
  p->xlim[1] = p->ylim[1] = 1;
}

void viz_partition_free(viz_partition *p) {
  free(p->ids);
  free(p->classes);
  free(p->points);
  free(p->labels);
  free(p->title);
  viz_partition_init(p);
}

bool viz_partition_has_data(const viz_partition *p) {
  return p->ids != NULL;
}

static int compare_ids(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* The number of distinct values among n ids; -1 when out of memory. */
static int64_t count_distinct(const int64_t *ids, size_t n) {
  int64_t *sorted = malloc(sizeof *sorted * (n ? n : 1));
  if (!sorted) return -1;
  memcpy(sorted, ids, sizeof *sorted * n);
  qsort(sorted, n, sizeof *sorted, compare_ids);
  int64_t distinct = n > 0;
  for (size_t i = 1; i < n; i++) distinct += sorted[i] != sorted[i - 1];
  free(sorted);
  return distinct;
}

int viz_partition_set(viz_partition *p, viz_partition *fresh) {
  int64_t regions = fresh->regions > 0
                        ? fresh->regions /* an exact count, given */
                        : count_distinct(fresh->ids, (size_t)fresh->h * (size_t)fresh->w);
  if (regions < 0) return -1;
  viz_partition_free(p);
  *p = *fresh;
  p->regions = regions;
  viz_partition_init(fresh);
  return 0;
}

/* ---- drawing ---- */

/* The largest rectangle of the data's aspect ratio (x span : y span) that fits in r,
   centered horizontally, at the top. */
static viz_rect fit_aspect(viz_rect r, double xspan, double yspan) {
  double aspect = xspan / yspan;
  if (!(aspect > 0) || !isfinite(aspect)) return r;
  int w = r.w, h = (int)lround(r.w / aspect);
  if (h > r.h) h = r.h, w = (int)lround(r.h * aspect);
  return (viz_rect){r.x + (r.w - w) / 2, r.y, w, h};
}

/* The range the image covers: n samples at linspace(lim[0], lim[1], n) are the centers of
   n equal cells, so the image reaches half a cell beyond lim on each side (one sample
   fills lim). */
static void extent(const double *lim, int n, double *lo, double *hi) {
  double half = n > 1 ? (lim[1] - lim[0]) / (n - 1) / 2 : 0;
  *lo = lim[0] - half, *hi = lim[1] + half;
}

/* For each pixel column (row), the grid column (row) that covers its center. */
static void cell_index(int *idx, int npx, int ncells, bool flip) {
  for (int i = 0; i < npx; i++) {
    int k = (int)((i + 0.5) * ncells / npx);
    k = k < ncells ? k : ncells - 1;
    idx[i] = flip ? ncells - 1 - k : k;
  }
}

/* How dark the lines between regions are: full strength while regions are big; fainter as
   they shrink towards a few pixels each, where lines would hide the colors (a wide net
   cuts a plane into thousands). */
static double line_alpha(const viz_partition *p, viz_rect a) {
  if (viz_text_in_cells()) return 0; /* at two pixels a cell, lines would hide the colors */
  double px_per_region = (double)a.w * a.h / (double)(p->regions > 0 ? p->regions : 1);
  double t = px_per_region / 400;
  return 0.55 * (t > 1 ? 1 : t < 0.2 ? 0.2 : t);
}

static void cells(const viz_partition *p, viz_canvas *c, viz_rect a, const int *col,
                  const int *row) {
  double alpha = line_alpha(p, a);
  int64_t last = p->ids[0];
  viz_color color = viz_id_color(last); /* neighbours mostly share an id: hash once per run */
  for (int y = 0; y < a.h; y++) {
    const int64_t *ids = p->ids + (size_t)row[y] * p->w;
    for (int x = 0; x < a.w; x++) {
      int64_t id = ids[col[x]];
      if (id != last) color = viz_id_color(last = id);
      viz_put(c, a.x + x, a.y + y, color);
      bool edge = (x + 1 < a.w && ids[col[x + 1]] != id) ||
                  (y + 1 < a.h && p->ids[(size_t)row[y + 1] * p->w + col[x]] != id);
      if (edge) viz_blend(c, a.x + x, a.y + y, REGION_LINE, alpha);
    }
  }
}

/* A 3-px line where the predicted class changes. */
static void decision(const viz_partition *p, viz_canvas *c, viz_rect a, const int *col,
                     const int *row) {
  int dw = viz_text_in_cells() ? 1 : 3;
  for (int y = 0; y < a.h; y++) {
    const int64_t *cls = p->classes + (size_t)row[y] * p->w;
    for (int x = 0; x < a.w; x++) {
      bool edge = (x + 1 < a.w && cls[col[x + 1]] != cls[col[x]]) ||
                  (y + 1 < a.h && p->classes[(size_t)row[y + 1] * p->w + col[x]] != cls[col[x]]);
      if (edge)
        viz_fill_rect(c, (viz_rect){a.x + x - dw / 2, a.y + y - dw / 2, dw, dw}, DECISION_LINE, 1);
    }
  }
}

/* A marker of class k (1-based): circle, square, triangle, diamond, by turns. */
static void marker(viz_canvas *c, double x, double y, double r, int64_t k, viz_color color) {
  viz_point pts[4];
  int n = 0;
  switch (k <= 0 ? 0 : (k - 1) % 4) {
  case 0: viz_fill_circle(c, x, y, r, color, 1); return;
  case 1:
    r *= 0.9;
    pts[0] = (viz_point){x - r, y - r}, pts[1] = (viz_point){x + r, y - r};
    pts[2] = (viz_point){x + r, y + r}, pts[3] = (viz_point){x - r, y + r}, n = 4;
    break;
  case 2:
    r *= 1.25;
    pts[0] = (viz_point){x, y - r}, pts[1] = (viz_point){x + r * 0.87, y + r * 0.5};
    pts[2] = (viz_point){x - r * 0.87, y + r * 0.5}, n = 3;
    break;
  default:
    r *= 1.2;
    pts[0] = (viz_point){x, y - r}, pts[1] = (viz_point){x + r, y};
    pts[2] = (viz_point){x, y + r}, pts[3] = (viz_point){x - r, y}, n = 4;
  }
  viz_fill_polygon(c, pts, n, color, 1);
}

static viz_color class_color(int64_t k) {
  return k > 0 ? viz_palette((int)((k - 1) % VIZ_NPALETTE)) : VIZ_INK;
}

#define DOT "\xe2\x80\xa2" /* a bullet: a point in cell mode, in its class's color */

/* The points, on top; in cell mode a dot character in at most one cell in five of the plot,
   every k-th point (each cell shows the last point that falls in it). */
static void points(const viz_partition *p, viz_canvas *c, const viz_scale *xs, const viz_scale *ys,
                   viz_rect a) {
  bool cells = viz_text_in_cells();
  int cw = viz_text_width(VIZ_SMALL, "x"), ch = viz_text_height(VIZ_SMALL);
  int room = cw > 0 && ch > 0 ? (a.w / cw) * (a.h / ch) / 5 + 1 : 1;
  int every = cells ? 1 + p->npoints / room : 1;
  for (int i = 0; i < p->npoints; i += every) {
    double x = viz_scale_px(xs, p->points[2 * i]), y = viz_scale_px(ys, p->points[2 * i + 1]);
    if (!isfinite(x) || !isfinite(y)) continue;
    int64_t k = p->labels ? p->labels[i] : 0;
    if (cells) {
      viz_text(c, VIZ_SMALL, (int)x, (int)y, VIZ_CENTER | VIZ_MIDDLE, class_color(k), DOT);
      continue;
    }
    marker(c, x, y, MARKER_RADIUS + 1.5, k, 0xffffff); /* a white halo on any region */
    marker(c, x, y, MARKER_RADIUS, k, class_color(k));
  }
}

/* The largest class label of the points (0: none). */
static int64_t classes_of_points(const viz_partition *p) {
  int64_t most = 0;
  for (int i = 0; p->labels && i < p->npoints; i++)
    most = p->labels[i] > most ? p->labels[i] : most;
  return most;
}

/* "class  ● 1  ■ 2  ▲ 3": a marker of each class and its label, in a row from (x, y). */
static void class_legend(const viz_partition *p, viz_canvas *c, int x, int y, int maxw) {
  int64_t n = classes_of_points(p);
  bool cells = viz_text_in_cells();
  int cw = viz_text_width(VIZ_SMALL, "x"); /* a character, in cell mode */
  int end = x + maxw, gap = cells ? 2 * cw : 12, space = cells ? cw : 4;
  int mid = y + viz_text_height(VIZ_SMALL) / 2;
  x += viz_text(c, VIZ_SMALL, x, y, VIZ_LEFT | VIZ_TOP, VIZ_MUTED, "class") + gap;
  for (int64_t k = 1; k <= n; k++) {
    char label[24];
    snprintf(label, sizeof label, "%lld", (long long)k);
    int need = viz_text_width(VIZ_SMALL, label) + 2 * gap;
    if (x + need > end) {
      viz_text(c, VIZ_SMALL, x, y, VIZ_LEFT | VIZ_TOP, VIZ_MUTED, "...");
      return;
    }
    if (cells) {
      x += viz_text(c, VIZ_SMALL, x, y, VIZ_LEFT | VIZ_TOP, class_color(k), DOT);
    } else {
      marker(c, x + MARKER_RADIUS, mid, MARKER_RADIUS, k, class_color(k));
      x += (int)(2 * MARKER_RADIUS);
    }
    x += space + viz_text(c, VIZ_SMALL, x + space, y, VIZ_LEFT | VIZ_TOP, VIZ_INK, label) + gap;
  }
}

void viz_partition_draw(const viz_partition *p, viz_canvas *c, viz_rect r) {
  char note[48];
  snprintf(note, sizeof note, "%lld region%s", (long long)p->regions, p->regions == 1 ? "" : "s");
  viz_rect body = viz_panel(c, r, p->title ? p->title : "ReLU partition", note);
  if (!p->ids) return;
  int small = viz_text_height(VIZ_SMALL);
  viz_rect room = {body.x + small + viz_sx(40), body.y + viz_sy(4), 0, 0};
  room.w = body.x + body.w - room.x - viz_sx(6);
  room.h = body.y + body.h - room.y - small - viz_sy(8);
  bool legend = classes_of_points(p) > 0;
  if (legend) room.h -= small + viz_sy(4);
  double x0, x1, y0, y1;
  extent(p->xlim, p->w, &x0, &x1);
  extent(p->ylim, p->h, &y0, &y1);
  viz_rect a = fit_aspect(room, x1 - x0, y1 - y0);
  if (a.w < 4 || a.h < 4) return;
  viz_scale xs = {.lo = x0, .hi = x1, .p0 = a.x, .p1 = a.x + a.w};
  viz_scale ys = {.lo = y0, .hi = y1, .p0 = a.y + a.h, .p1 = a.y};
  viz_scale_ready(&xs);
  viz_scale_ready(&ys);
  viz_axes(c, a, &xs, &ys, NULL, NULL);
  int *col = malloc(sizeof *col * (size_t)(a.w + a.h));
  if (!col) return;
  int *row = col + a.w;
  cell_index(col, a.w, p->w, false);
  cell_index(row, a.h, p->h, true); /* pixel rows go down, grid rows go up */
  viz_rect saved = c->clip;
  viz_canvas_clip(c, a);
  viz_picture(c, a);
  cells(p, c, a, col, row);
  if (p->classes) decision(p, c, a, col, row);
  points(p, c, &xs, &ys, a);
  c->clip = saved;
  free(col);
  if (legend)
    class_legend(p, c, a.x, a.y + a.h + viz_sy(5) + small + (viz_text_in_cells() ? 0 : 4),
                 body.x + body.w - a.x);
}
