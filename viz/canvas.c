/*
** viz/canvas.c: the pixel buffer and its primitives.
**
** Lines are drawn as capsules: each pixel near the segment gets the coverage
** clamp(width/2 + 1/2 - distance, 0, 1), which anti-aliases at any angle and width, and
** only the pixels of a band along the segment are visited, so a long line costs its length
** times its width. Polygons are filled by scanlines with 4 sub-rows and exact horizontal
** coverage, which is enough anti-aliasing for markers and swatches.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "viz/canvas.h"

enum { SUBROWS = 4 }; /* vertical samples per pixel row when filling polygons */

bool viz_canvas_resize(viz_canvas *c, int w, int h) {
  if (w == c->w && h == c->h && c->px) return true;
  uint8_t *px = w > 0 && h > 0 ? realloc(c->px, (size_t)w * (size_t)h * 4) : NULL;
  if (!px) {
    viz_canvas_free(c);
    return w <= 0 || h <= 0;
  }
  c->px = px;
  c->w = w;
  c->h = h;
  viz_canvas_noclip(c);
  return true;
}

void viz_canvas_free(viz_canvas *c) {
  free(c->px);
  c->px = NULL;
  c->w = c->h = 0;
  c->clip = (viz_rect){0, 0, 0, 0};
}

static int imax(int a, int b) {
  return a > b ? a : b;
}
static int imin(int a, int b) {
  return a < b ? a : b;
}

void viz_canvas_clip(viz_canvas *c, viz_rect r) {
  viz_rect k = c->clip;
  int x0 = imax(r.x, k.x), y0 = imax(r.y, k.y);
  int x1 = imin(r.x + r.w, k.x + k.w), y1 = imin(r.y + r.h, k.y + k.h);
  c->clip = (viz_rect){x0, y0, imax(x1 - x0, 0), imax(y1 - y0, 0)};
}

void viz_canvas_noclip(viz_canvas *c) {
  c->clip = (viz_rect){0, 0, c->w, c->h};
}

viz_color viz_mix(viz_color a, viz_color b, double t) {
  viz_color out = 0;
  for (int shift = 0; shift <= 16; shift += 8) {
    double ca = (a >> shift) & 255, cb = (b >> shift) & 255;
    out |= (viz_color)lround(ca + (cb - ca) * t) << shift;
  }
  return out;
}

/* Blends col into the pixel p with weight a in 0..255. */
static inline void blend_px(uint8_t *p, viz_color col, unsigned a) {
  unsigned r = col >> 16 & 255, g = col >> 8 & 255, b = col & 255;
  p[0] = (uint8_t)((p[0] * (255 - a) + r * a + 127) / 255);
  p[1] = (uint8_t)((p[1] * (255 - a) + g * a + 127) / 255);
  p[2] = (uint8_t)((p[2] * (255 - a) + b * a + 127) / 255);
  p[3] = 255;
}

static inline unsigned to_byte(double alpha) {
  if (!(alpha > 0)) return 0;
  return alpha >= 1 ? 255 : (unsigned)lround(alpha * 255);
}

void viz_blend(viz_canvas *c, int x, int y, viz_color col, double alpha) {
  if (!viz_rect_has(c->clip, x, y)) return;
  unsigned a = to_byte(alpha);
  if (a) blend_px(c->px + ((size_t)y * c->w + x) * 4, col, a);
}

void viz_fill_rect(viz_canvas *c, viz_rect r, viz_color col, double alpha) {
  int x0 = imax(r.x, c->clip.x), y0 = imax(r.y, c->clip.y);
  int x1 = imin(r.x + r.w, c->clip.x + c->clip.w), y1 = imin(r.y + r.h, c->clip.y + c->clip.h);
  unsigned a = to_byte(alpha);
  if (!a) return;
  const uint8_t opaque[4] = {col >> 16 & 255, col >> 8 & 255, col & 255, 255};
  for (int y = y0; y < y1; y++) {
    uint8_t *p = c->px + ((size_t)y * c->w + x0) * 4;
    if (a == 255) /* most fills: no blending */
      for (int x = x0; x < x1; x++, p += 4) memcpy(p, opaque, 4);
    else
      for (int x = x0; x < x1; x++, p += 4) blend_px(p, col, a);
  }
}

void viz_fill(viz_canvas *c, viz_color col) {
  viz_fill_rect(c, c->clip, col, 1);
}

void viz_frame_rect(viz_canvas *c, viz_rect r, viz_color col) {
  if (r.w <= 0 || r.h <= 0) return;
  viz_fill_rect(c, (viz_rect){r.x, r.y, r.w, 1}, col, 1);
  viz_fill_rect(c, (viz_rect){r.x, r.y + r.h - 1, r.w, 1}, col, 1);
  viz_fill_rect(c, (viz_rect){r.x, r.y + 1, 1, r.h - 2}, col, 1);
  viz_fill_rect(c, (viz_rect){r.x + r.w - 1, r.y + 1, 1, r.h - 2}, col, 1);
}

/* Distance from (px, py) to the segment a-b (a point when a == b). */
static double segment_distance(double px, double py, double ax, double ay, double bx, double by) {
  double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  double ex = ax + t * dx - px, ey = ay + t * dy - py;
  return sqrt(ex * ex + ey * ey);
}

/* The x range of the segment's points whose y lies in [ylo, yhi] (the segment clipped to a
   horizontal band); false when it misses the band. */
static bool band_xrange(double x0, double y0, double x1, double y1, double ylo, double yhi,
                        double *xa, double *xb) {
  if (y0 > y1) {
    double t = x0;
    x0 = x1, x1 = t, t = y0, y0 = y1, y1 = t;
  }
  if (y1 < ylo || y0 > yhi) return false;
  if (y1 - y0 < 1e-12) {
    *xa = fmin(x0, x1), *xb = fmax(x0, x1);
    return true;
  }
  double ta = fmax((ylo - y0) / (y1 - y0), 0), tb = fmin((yhi - y0) / (y1 - y0), 1);
  double xa_ = x0 + ta * (x1 - x0), xb_ = x0 + tb * (x1 - x0);
  *xa = fmin(xa_, xb_), *xb = fmax(xa_, xb_);
  return true;
}

void viz_line(viz_canvas *c, double x0, double y0, double x1, double y1, double width,
              viz_color col, double alpha) {
  if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1)) return;
  double r = width / 2, reach = r + 1;
  viz_rect k = c->clip;
  int ylo = imax((int)floor(fmin(y0, y1) - reach), k.y);
  int yhi = imin((int)ceil(fmax(y0, y1) + reach), k.y + k.h - 1);
  for (int y = ylo; y <= yhi; y++) {
    double cy = y + 0.5, xa, xb;
    if (!band_xrange(x0, y0, x1, y1, cy - reach, cy + reach, &xa, &xb)) continue;
    int xlo = imax((int)floor(xa - reach), k.x), xhi = imin((int)ceil(xb + reach), k.x + k.w - 1);
    for (int x = xlo; x <= xhi; x++) {
      double cover = r + 0.5 - segment_distance(x + 0.5, cy, x0, y0, x1, y1);
      if (cover > 0) viz_blend(c, x, y, col, alpha * fmin(cover, 1));
    }
  }
}

void viz_fill_circle(viz_canvas *c, double cx, double cy, double r, viz_color col, double alpha) {
  viz_line(c, cx, cy, cx, cy, 2 * r, col, alpha);
}

/* Adds the coverage of the span [xa, xb) of one sub-row (weight w) to the row's cover. */
static void add_span(float *cover, int n, double xa, double xb, float w) {
  if (xb <= 0 || xa >= n) return;
  xa = fmax(xa, 0), xb = fmin(xb, n);
  int ia = (int)xa, ib = (int)xb;
  if (ia == ib) {
    cover[ia] += w * (float)(xb - xa);
    return;
  }
  cover[ia] += w * (float)(ia + 1 - xa);
  for (int i = ia + 1; i < ib; i++) cover[i] += w;
  if (ib < n) cover[ib] += w * (float)(xb - ib);
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The x crossings of the horizontal line at y with the polygon's edges, sorted. */
static int crossings(const viz_point *pts, int n, double y, double *xs) {
  int m = 0;
  for (int i = 0; i < n; i++) {
    viz_point a = pts[i], b = pts[(i + 1) % n];
    if ((a.y <= y) == (b.y <= y)) continue;
    xs[m++] = a.x + (y - a.y) / (b.y - a.y) * (b.x - a.x);
  }
  qsort(xs, (size_t)m, sizeof *xs, compare_doubles);
  return m;
}

void viz_fill_polygon(viz_canvas *c, const viz_point *pts, int n, viz_color col, double alpha) {
  if (n < 3 || c->clip.w <= 0) return;
  double ymin = pts[0].y, ymax = pts[0].y;
  for (int i = 1; i < n; i++) ymin = fmin(ymin, pts[i].y), ymax = fmax(ymax, pts[i].y);
  if (!isfinite(ymin) || !isfinite(ymax)) return;
  float *cover = malloc(sizeof *cover * (size_t)c->w);
  double *xs = malloc(sizeof *xs * (size_t)n);
  if (!cover || !xs) goto done;
  int y0 = imax((int)floor(ymin), c->clip.y), y1 = imin((int)ceil(ymax), c->clip.y + c->clip.h);
  for (int y = y0; y < y1; y++) {
    memset(cover, 0, sizeof *cover * (size_t)c->w);
    for (int s = 0; s < SUBROWS; s++) {
      int m = crossings(pts, n, y + (s + 0.5) / SUBROWS, xs);
      for (int i = 0; i + 1 < m; i += 2) add_span(cover, c->w, xs[i], xs[i + 1], 1.0f / SUBROWS);
    }
    for (int x = c->clip.x; x < c->clip.x + c->clip.w; x++)
      if (cover[x] > 0) viz_blend(c, x, y, col, alpha * fmin(cover[x], 1));
  }
done:
  free(cover);
  free(xs);
}

void viz_mask(viz_canvas *c, int x, int y, const uint8_t *mask, int w, int h, viz_color col) {
  int x0 = imax(x, c->clip.x), y0 = imax(y, c->clip.y);
  int x1 = imin(x + w, c->clip.x + c->clip.w), y1 = imin(y + h, c->clip.y + c->clip.h);
  for (int yy = y0; yy < y1; yy++) {
    const uint8_t *m = mask + (size_t)(yy - y) * w + (x0 - x);
    uint8_t *p = c->px + ((size_t)yy * c->w + x0) * 4;
    for (int xx = x0; xx < x1; xx++, m++, p += 4)
      if (*m) blend_px(p, col, *m);
  }
}
