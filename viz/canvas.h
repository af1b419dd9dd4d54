/*
** viz/canvas.h: the CPU pixel buffer every panel draws into.
**
** All drawing happens here, in memory: a window only shows the buffer (viz/view.c) and a
** headless view writes it as PNG (viz/png.c), so both are the same pixels. Pixels are RGBA,
** 4 bytes each, row-major from the top-left corner; the canvas is opaque (alpha 255) and
** drawing blends into it. Every primitive clips to the canvas's clip rectangle.
*/
#ifndef VIZ_CANVAS_H
#define VIZ_CANVAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint32_t viz_color; /* 0xRRGGBB */

typedef struct viz_rect {
  int x, y, w, h;
} viz_rect;

typedef struct viz_canvas {
  int w, h;
  uint8_t *px;   /* w * h * 4 bytes: R, G, B, A */
  viz_rect clip; /* where drawing lands */
} viz_canvas;

typedef struct viz_point {
  double x, y;
} viz_point;

/* lifetime: false when out of memory (the canvas is then empty, 0 x 0) */
bool viz_canvas_resize(viz_canvas *c, int w, int h);
void viz_canvas_free(viz_canvas *c);

/* Sets the clip rectangle to r within the current one (save c->clip to restore it). */
void viz_canvas_clip(viz_canvas *c, viz_rect r);
void viz_canvas_noclip(viz_canvas *c);

/* colors */
viz_color viz_mix(viz_color a, viz_color b, double t); /* a at t = 0, b at t = 1 */

/* pixels and shapes; alpha in [0, 1] */
void viz_blend(viz_canvas *c, int x, int y, viz_color col, double alpha);
void viz_fill(viz_canvas *c, viz_color col); /* the clip rectangle, opaque */
void viz_fill_rect(viz_canvas *c, viz_rect r, viz_color col, double alpha);
void viz_frame_rect(viz_canvas *c, viz_rect r, viz_color col); /* 1-px outline inside r */
/* Anti-aliased line of the given width with round ends (pixel centers are at +0.5). */
void viz_line(viz_canvas *c, double x0, double y0, double x1, double y1, double width,
              viz_color col, double alpha);
void viz_fill_circle(viz_canvas *c, double cx, double cy, double r, viz_color col, double alpha);
/* Anti-aliased even-odd fill of a polygon of n points. */
void viz_fill_polygon(viz_canvas *c, const viz_point *pts, int n, viz_color col, double alpha);
/* Blends a w x h coverage mask (0..255) at (x, y) in one color: glyphs, markers. */
void viz_mask(viz_canvas *c, int x, int y, const uint8_t *mask, int w, int h, viz_color col);

/* whether r holds (x, y) */
static inline bool viz_rect_has(viz_rect r, int x, int y) {
  return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h;
}

/* Sets one pixel, opaque (images drawn pixel by pixel). */
static inline void viz_put(viz_canvas *c, int x, int y, viz_color col) {
  if (!viz_rect_has(c->clip, x, y)) return;
  uint8_t *p = c->px + ((size_t)y * c->w + x) * 4;
  p[0] = col >> 16 & 255, p[1] = col >> 8 & 255, p[2] = col & 255, p[3] = 255;
}

#endif
