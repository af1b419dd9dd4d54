/*
** viz/cells.c: a view as character cells (the terminal's text mode), and the byte buffer
** of the terminal encoders.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz/cells.h"
#include "viz/text.h"
#include "viz/view.h"

/* ---- the buffer ---- */

void viz_buf_add(viz_buf *b, const void *data, size_t n) {
  if (b->failed) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->failed = true;
      return;
    }
    b->p = p, b->cap = cap;
  }
  memcpy(b->p + b->n, data, n);
  b->n += n;
  b->p[b->n] = 0;
}

void viz_buf_str(viz_buf *b, const char *s) {
  viz_buf_add(b, s, strlen(s));
}

void viz_buf_printf(viz_buf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) viz_buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void viz_buf_free(viz_buf *b) {
  free(b->p);
  *b = (viz_buf){0};
}

/* ---- colors ---- */

static int red(viz_color c) {
  return (int)(c >> 16 & 255);
}
static int green(viz_color c) {
  return (int)(c >> 8 & 255);
}
static int blue(viz_color c) {
  return (int)(c & 255);
}
static viz_color rgb(int r, int g, int b) {
  return (viz_color)r << 16 | (viz_color)g << 8 | (viz_color)b;
}

static int dist2(viz_color a, viz_color b) {
  int dr = red(a) - red(b), dg = green(a) - green(b), db = blue(a) - blue(b);
  return dr * dr + dg * dg + db * db;
}

static int luma(viz_color c) { /* 0..255, Rec. 601 weights */
  return (299 * red(c) + 587 * green(c) + 114 * blue(c)) / 1000;
}

static const int cube[6] = {0, 95, 135, 175, 215, 255};

static int nearest_level(int v) {
  int best = 0;
  for (int i = 1; i < 6; i++)
    if (abs(cube[i] - v) < abs(cube[best] - v)) best = i;
  return best;
}

int viz_color256(viz_color col) {
  int r = nearest_level(red(col)), g = nearest_level(green(col)), b = nearest_level(blue(col));
  viz_color c6 = rgb(cube[r], cube[g], cube[b]);
  int k = (luma(col) - 8 + 5) / 10; /* grays 232..255 are 8, 18, ..., 238 */
  k = k < 0 ? 0 : k > 23 ? 23 : k;
  viz_color gray = rgb(8 + 10 * k, 8 + 10 * k, 8 + 10 * k);
  return dist2(gray, col) < dist2(c6, col) ? 232 + k : 16 + 36 * r + 6 * g + b;
}

/* ---- drawing into cells ---- */

typedef struct layer { /* the strings, as characters over the cells */
  int cols, rows;
  uint32_t *ch; /* 0: none */
  viz_color *fg;
  uint8_t *picture; /* per cell: drawn with half blocks */
} layer;

/* Marks every cell r overlaps. */
static void picture(void *ud, viz_rect r) {
  layer *l = ud;
  int c0 = r.x / VIZ_CELL_W, c1 = (r.x + r.w - 1) / VIZ_CELL_W;
  int r0 = r.y / VIZ_CELL_H, r1 = (r.y + r.h - 1) / VIZ_CELL_H;
  for (int row = r0 < 0 ? 0 : r0; row <= r1 && row < l->rows; row++)
    for (int c = c0 < 0 ? 0 : c0; c <= c1 && c < l->cols; c++)
      l->picture[(size_t)row * l->cols + c] = 1;
}

/* The next code point of the UTF-8 string at *s (a malformed byte counts as '?'). */
static uint32_t next_cp(const char **s) {
  const unsigned char *p = (const unsigned char *)*s;
  uint32_t cp = p[0];
  int extra = cp >= 0xF0 ? 3 : cp >= 0xE0 ? 2 : cp >= 0xC0 ? 1 : 0;
  if (cp >= 0x80 && cp < 0xC0) extra = -1;
  if (extra < 0) {
    *s += 1;
    return '?';
  }
  cp &= extra ? 0x3Fu >> extra : 0x7F;
  int i = 1;
  for (; i <= extra && (p[i] & 0xC0) == 0x80; i++) cp = cp << 6 | (p[i] & 0x3F);
  *s += i;
  return i == extra + 1 ? cp : '?';
}

static void sink(void *ud, const char *s, int x, int y, viz_color col, viz_rect clip) {
  layer *l = ud;
  int row = (y + VIZ_CELL_H / 2) / VIZ_CELL_H, c = (x + VIZ_CELL_W / 2) / VIZ_CELL_W;
  if (row < 0 || row >= l->rows) return;
  while (*s) {
    uint32_t cp = next_cp(&s);
    int cx = c * VIZ_CELL_W + VIZ_CELL_W / 2, cy = row * VIZ_CELL_H + VIZ_CELL_H / 2;
    if (c >= 0 && c < l->cols && viz_rect_has(clip, cx, cy)) {
      l->ch[(size_t)row * l->cols + c] = cp;
      l->fg[(size_t)row * l->cols + c] = col;
    }
    c++;
  }
}

static viz_color mean(const viz_color *px, const bool *in, bool want, int n) {
  int r = 0, g = 0, b = 0, k = 0;
  for (int i = 0; i < n; i++)
    if (in[i] == want) r += red(px[i]), g += green(px[i]), b += blue(px[i]), k++;
  return k ? rgb(r / k, g / k, b / k) : 0;
}

enum { UNIFORM = 32 * 32 }; /* colors closer than this (squared distance) are one */

/* The bit of the braille dot of pixel i (i = 2 dy + dx: two pixels a row, four rows). */
static const uint8_t dot_bit[8] = {0x01, 0x08, 0x02, 0x10, 0x04, 0x20, 0x40, 0x80};
/* plain mode's dither: a dot where the pixel is darker than its threshold */
static const uint8_t dither[8] = {28, 140, 196, 84, 56, 168, 224, 112};

static void braille(const viz_color *px, viz_depth depth, viz_cell *out) {
  if (depth == VIZ_PLAIN) {
    int bits = 0;
    for (int i = 0; i < 8; i++)
      if (luma(px[i]) < dither[i]) bits |= dot_bit[i];
    *out = (viz_cell){bits ? 0x2800u + (uint32_t)bits : ' ', 0, 0};
    return;
  }
  /* lines on a light panel: the background is the lightest color of two pixels or more (of
     any one, when none is); the dots are the pixels that differ from it, in the color of the
     one that differs most (the core of a line rather than its anti-aliased edge) */
  int best = -1, lightest = 0;
  for (int i = 0; i < 8; i++) {
    int k = 0;
    for (int j = 0; j < 8; j++) k += px[j] == px[i];
    if (k >= 2 && (best < 0 || luma(px[i]) > luma(px[best]))) best = i;
    if (luma(px[i]) > luma(px[lightest])) lightest = i;
  }
  if (best < 0) best = lightest;
  viz_color bg = px[best];
  int bits = 0, far = 0, fg = best;
  for (int i = 0; i < 8; i++) {
    int d = dist2(px[i], bg);
    if (d >= UNIFORM) bits |= dot_bit[i];
    if (d > far) far = d, fg = i;
  }
  *out = (viz_cell){bits ? 0x2800u + (uint32_t)bits : ' ', px[fg], bg};
}

static void blocks(const viz_color *px, viz_depth depth, viz_cell *out) {
  bool top[8];
  for (int i = 0; i < 8; i++) top[i] = i < 4;
  viz_color t = mean(px, top, true, 8), b = mean(px, top, false, 8);
  if (depth == VIZ_PLAIN) {
    bool dt = luma(t) < 128, db = luma(b) < 128;
    uint32_t ch = dt && db ? 0x2588 : dt ? 0x2580 : db ? 0x2584 : ' ';
    *out = (viz_cell){ch, 0, 0};
  } else if (dist2(t, b) < UNIFORM) {
    bool all[8] = {0};
    *out = (viz_cell){' ', 0, mean(px, all, false, 8)};
  } else {
    *out = (viz_cell){0x2580, t, b}; /* upper half block: fg on top, bg below */
  }
}

static void quantize(const viz_canvas *c, viz_cells *out, const layer *l, viz_glyphs glyphs,
                     viz_depth depth) {
  for (int r = 0; r < out->rows; r++)
    for (int k = 0; k < out->cols; k++) {
      viz_color px[8];
      for (int i = 0; i < 8; i++) {
        int x = k * VIZ_CELL_W + i % 2, y = r * VIZ_CELL_H + i / 2;
        const uint8_t *p = c->px + ((size_t)y * c->w + x) * 4;
        px[i] = rgb(p[0], p[1], p[2]);
      }
      viz_cell *cell = &out->cell[(size_t)r * out->cols + k];
      if (glyphs == VIZ_BLOCKS || l->picture[(size_t)r * out->cols + k])
        blocks(px, depth, cell);
      else
        braille(px, depth, cell);
    }
}

/* The strings over the cells: a character in its color, on the cell's background. */
static void overlay(viz_cells *out, const layer *l, viz_depth depth) {
  for (size_t i = 0; i < (size_t)out->rows * out->cols; i++) {
    if (!l->ch[i]) continue;
    viz_cell *cell = &out->cell[i];
    if (depth != VIZ_PLAIN && cell->ch != ' ' && luma(cell->fg) > luma(cell->bg))
      cell->bg = cell->fg; /* text goes on the lighter of the two */
    cell->ch = l->ch[i];
    cell->fg = depth == VIZ_PLAIN ? 0 : l->fg[i];
  }
}

bool viz_cells_render(viz_view *v, viz_cells *out, int cols, int rows, viz_glyphs glyphs,
                      viz_depth depth) {
  if (cols < 1 || rows < 1) return false;
  size_t n = (size_t)cols * rows;
  if (out->cols * out->rows != (int)n) {
    viz_cell *cell = realloc(out->cell, n * sizeof *cell);
    if (!cell) return false;
    out->cell = cell;
  }
  out->cols = cols, out->rows = rows;
  layer l = {cols, rows, calloc(n, sizeof *l.ch), calloc(n, sizeof *l.fg), calloc(n, 1)};
  bool ok = l.ch && l.fg && l.picture;
  if (ok) {
    int w = v->w, h = v->h;
    v->w = cols * VIZ_CELL_W, v->h = rows * VIZ_CELL_H;
    viz_text_cells(VIZ_CELL_W, VIZ_CELL_H, sink, picture, &l);
    viz_view_render(v);
    viz_text_cells(0, 0, NULL, NULL, NULL);
    ok = v->canvas.w == v->w && v->canvas.h == v->h && v->canvas.px;
    if (ok) {
      quantize(&v->canvas, out, &l, glyphs, depth);
      overlay(out, &l, depth);
    }
    if (w != v->w || h != v->h) v->dirty = true; /* the canvas is not at the view's size */
    v->w = w, v->h = h;
  }
  free(l.ch);
  free(l.fg);
  free(l.picture);
  return ok;
}

void viz_cells_free(viz_cells *c) {
  free(c->cell);
  *c = (viz_cells){0};
}

/* ---- output ---- */

static void utf8(viz_buf *b, uint32_t cp) {
  char s[4];
  size_t n;
  if (cp < 0x80)
    s[0] = (char)cp, n = 1;
  else if (cp < 0x800)
    s[0] = (char)(0xC0 | cp >> 6), s[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
  else if (cp < 0x10000)
    s[0] = (char)(0xE0 | cp >> 12), s[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
    s[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
  else
    s[0] = (char)(0xF0 | cp >> 18), s[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
    s[2] = (char)(0x80 | (cp >> 6 & 0x3F)), s[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
  viz_buf_add(b, s, n);
}

typedef struct pen {
  long fg, bg; /* the colors set, -1: unknown */
} pen;

static void color(viz_buf *b, int which, viz_color c, viz_depth depth) {
  if (depth == VIZ_24BIT)
    viz_buf_printf(b, "\x1b[%d;2;%d;%d;%dm", which, red(c), green(c), blue(c));
  else
    viz_buf_printf(b, "\x1b[%d;5;%dm", which, viz_color256(c));
}

/* Sets the pen to the cell's colors (a space needs only its background). */
static void put_cell(viz_buf *b, pen *p, const viz_cell *c, viz_depth depth) {
  if (depth != VIZ_PLAIN) {
    if (c->ch != ' ' && p->fg != (long)c->fg) color(b, 38, c->fg, depth), p->fg = (long)c->fg;
    if (p->bg != (long)c->bg) color(b, 48, c->bg, depth), p->bg = (long)c->bg;
  }
  utf8(b, c->ch);
}

static bool same(const viz_cell *a, const viz_cell *b) {
  return a->ch == b->ch && a->bg == b->bg && (a->ch == ' ' || a->fg == b->fg);
}

void viz_cells_emit(viz_buf *b, const viz_cells *now, const viz_cells *before, int top,
                    viz_depth depth) {
  if (before && (before->cols != now->cols || before->rows != now->rows)) before = NULL;
  pen p = {-1, -1};
  int at_r = -1, at_c = -1; /* where the cursor is, when known */
  for (int r = 0; r < now->rows; r++)
    for (int k = 0; k < now->cols; k++) {
      size_t i = (size_t)r * now->cols + k;
      if (before && same(&now->cell[i], &before->cell[i])) continue;
      if (r != at_r || k != at_c) viz_buf_printf(b, "\x1b[%d;%dH", top + r, k + 1);
      put_cell(b, &p, &now->cell[i], depth);
      at_r = r, at_c = k + 1;
    }
  if (at_r >= 0) viz_buf_str(b, "\x1b[0m");
}

void viz_cells_lines(viz_buf *b, const viz_cells *now, viz_depth depth, bool crlf) {
  for (int r = 0; r < now->rows; r++) {
    pen p = {-1, -1};
    for (int k = 0; k < now->cols; k++)
      put_cell(b, &p, &now->cell[(size_t)r * now->cols + k], depth);
    if (depth != VIZ_PLAIN) viz_buf_str(b, "\x1b[0m");
    viz_buf_str(b, crlf ? "\r\n" : "\n");
  }
}
