/*
** viz/view.c: a view's layout and drawing, and saving it as PNG.
**
** The window side (SDL, events, the rate limit) is viz/window.c; everything here works the
** same with or without a window, which is what makes a headless PNG and a screenshot of the
** window the same pixels.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "viz/color.h"
#include "viz/png.h"
#include "viz/text.h"
#include "viz/view.h"
#include "viz/term.h"
#include "viz/window.h"

enum { HEADER = 30, GAP = 8 };

int viz_view_open(viz_view *v, const char *title, int w, int h, bool headless, char *err,
                  size_t errlen) {
  memset(v, 0, sizeof *v);
  viz_plot_init(&v->plot);
  viz_sparsity_init(&v->sparsity);
  viz_plot_init(&v->angles);
  v->angles.smoothing = 0; /* a point every few steps, each over a fixed sample */
  viz_partition_init(&v->partition);
  v->w = w, v->h = h;
  v->dirty = true;
  v->title = strdup(title);
  if (!v->title || !viz_canvas_resize(&v->canvas, w, h) ||
      viz_plot_labels(&v->angles, "step", "degrees") < 0 ||
      viz_plot_title(&v->angles, "angle to the true gradient, per layer") < 0) {
    snprintf(err, errlen, "cannot make a %dx%d view (out of memory)", w, h);
    free(v->title);
    v->title = NULL;
    return -1;
  }
  v->headless = headless || !viz_window_open(v);
  return 0;
}

void viz_view_close(viz_view *v) {
  viz_term_close(v);
  viz_window_close(v);
  v->closed = true;
}

void viz_view_free(viz_view *v) {
  viz_term_close(v);
  viz_window_close(v);
  viz_plot_free(&v->plot);
  viz_sparsity_free(&v->sparsity);
  viz_plot_free(&v->angles);
  viz_partition_free(&v->partition);
  viz_canvas_free(&v->canvas);
  free(v->title);
  v->title = NULL;
  v->closed = true;
}

typedef enum panel { LOSS, SPARSITY, ANGLES, PARTITION, NPANELS } panel;

/* The panels that have data, in drawing order; returns how many. */
static int present(const viz_view *v, panel *out) {
  int n = 0;
  if (viz_plot_has_data(&v->plot)) out[n++] = LOSS;
  if (viz_sparsity_has_data(&v->sparsity)) out[n++] = SPARSITY;
  if (viz_plot_has_data(&v->angles)) out[n++] = ANGLES;
  if (viz_partition_has_data(&v->partition)) out[n++] = PARTITION;
  return n;
}

/* Rectangles for n panels in body: one fills it; two share it side by side; three put the
   last (the partition, roughly square) on the right of the other two, stacked; four put it
   on the right of the other three, stacked (the first taller). */
static void layout(viz_rect body, int n, viz_rect *r) {
  /* in cell mode, panels meet at whole lines (a panel's title is on its top frame line) */
  bool cells = viz_text_in_cells();
  int gx = viz_sx(GAP), gy = cells ? 0 : GAP, line = cells ? viz_text_height(VIZ_SMALL) : 1;
  if (n == 1) {
    r[0] = body;
  } else if (n == 2) {
    int w = (body.w - gx) / 2;
    r[0] = (viz_rect){body.x, body.y, w, body.h};
    r[1] = (viz_rect){body.x + w + gx, body.y, body.w - w - gx, body.h};
  } else if (n == 3) {
    int right = body.h < body.w * 9 / 20 ? body.h : body.w * 9 / 20;
    int left = body.w - right - gx, top = (body.h - gy) * 11 / 20 / line * line;
    r[0] = (viz_rect){body.x, body.y, left, top};
    r[1] = (viz_rect){body.x, body.y + top + gy, left, body.h - top - gy};
    r[2] = (viz_rect){body.x + left + gx, body.y, right, body.h};
  } else if (n == 4) {
    int right = body.h < body.w * 2 / 5 ? body.h : body.w * 2 / 5;
    int left = body.w - right - gx, top = (body.h - 2 * gy) * 2 / 5 / line * line;
    int rest = (body.h - 2 * gy - top) / 2 / line * line;
    r[0] = (viz_rect){body.x, body.y, left, top};
    r[1] = (viz_rect){body.x, body.y + top + gy, left, rest};
    r[2] = (viz_rect){body.x, body.y + top + rest + 2 * gy, left, body.h - top - rest - 2 * gy};
    r[3] = (viz_rect){body.x + left + gx, body.y, right, body.h};
  }
}

static void draw_panel(viz_view *v, panel p, viz_rect r) {
  viz_canvas *c = &v->canvas;
  viz_canvas_clip(c, r);
  if (p == LOSS) viz_plot_draw(&v->plot, c, r);
  if (p == SPARSITY) viz_sparsity_draw(&v->sparsity, c, r);
  if (p == ANGLES) viz_plot_draw(&v->angles, c, r);
  if (p == PARTITION) viz_partition_draw(&v->partition, c, r);
  viz_canvas_noclip(c);
}

static void header(viz_view *v) {
  viz_canvas *c = &v->canvas;
  int mid = viz_text_in_cells() ? viz_text_height(VIZ_TITLE) / 2 : HEADER / 2 + 2;
  int tw = viz_text(c, VIZ_TITLE, GAP + 2, mid, VIZ_LEFT | VIZ_MIDDLE, VIZ_INK, v->title);
  if (v->paused || v->hint)
    viz_text_fit(c, VIZ_NORMAL, c->w - viz_sx(GAP + 2), mid, VIZ_RIGHT | VIZ_MIDDLE,
                 v->paused ? 0xc0392b : VIZ_MUTED, v->paused ? "paused (p resumes)" : v->hint,
                 c->w - tw - 4 * viz_sx(GAP));
}

static void waiting(viz_canvas *c, viz_rect body) {
  viz_fill_rect(c, body, VIZ_PANEL, 1);
  viz_frame_rect(c, body, VIZ_FRAME);
  int cx = body.x + body.w / 2, cy = body.y + body.h / 2;
  viz_text(c, VIZ_NORMAL, cx, cy - 10, VIZ_CENTER | VIZ_BOTTOM, VIZ_MUTED, "waiting for data");
  viz_text_fit(c, VIZ_SMALL, cx, cy + 4, VIZ_CENTER | VIZ_TOP, VIZ_MUTED,
               "v:plot(name, x, y)   v:sparsity(layers, fractions, dead, step)   "
               "v:angles(name, x, y)   v:partition_image(ids, opts)",
               body.w - 16);
}

void viz_view_render(viz_view *v) {
  viz_canvas *c = &v->canvas;
  if (!viz_canvas_resize(c, v->w, v->h)) return;
  viz_canvas_noclip(c);
  viz_fill(c, VIZ_BACKGROUND);
  header(v);
  viz_rect body = {GAP, HEADER + 4, c->w - 2 * GAP, c->h - HEADER - 4 - GAP};
  if (viz_text_in_cells()) /* one line of header, one character of margin */
    body = (viz_rect){viz_sx(8), viz_text_height(VIZ_TITLE), c->w - 2 * viz_sx(8),
                      c->h - viz_text_height(VIZ_TITLE)};
  panel ps[NPANELS];
  viz_rect rs[NPANELS];
  int n = present(v, ps);
  if (body.w < viz_sx(40) || body.h < viz_sy(40)) {
    /* too small to show anything but the header */
  } else if (n == 0) {
    waiting(c, body);
  } else {
    layout(body, n, rs);
    for (int i = 0; i < n; i++) draw_panel(v, ps[i], rs[i]);
  }
  v->dirty = false;
  v->unshown = v->win != NULL; /* drawn for a save, say: the window shows it at its update */
}

int viz_view_save(viz_view *v, const char *path, char *err, size_t errlen) {
  if (v->dirty || !v->canvas.px) viz_view_render(v);
  if (!v->canvas.px) {
    snprintf(err, errlen, "cannot draw a %dx%d view (out of memory)", v->w, v->h);
    return -1;
  }
  return viz_png_write(path, v->canvas.px, v->canvas.w, v->canvas.h, err, errlen);
}

void viz_default_path(char *out, size_t n) {
  for (int k = 1; k < 100000; k++) {
    snprintf(out, n, "relua-view-%d.png", k);
    if (access(out, F_OK) != 0) return;
  }
}

int viz_view_save_default(viz_view *v) {
  char path[64], err[512];
  viz_default_path(path, sizeof path);
  if (viz_view_save(v, path, err, sizeof err) < 0) {
    fprintf(stderr, "viz: %s\n", err);
    return -1;
  }
  printf("viz: saved %s\n", path);
  fflush(stdout);
  return 0;
}

void viz_view_toggle_log(viz_view *v) {
  v->plot.log = !v->plot.log;
  v->dirty = true;
}

void viz_view_set_paused(viz_view *v, bool paused) {
  if (v->paused != paused) v->dirty = true;
  v->paused = paused;
}
