/*
** viz/graphics.c: the kitty graphics protocol and sixel encoders (see viz/graphics.h).
*/
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "viz/graphics.h"

enum { CHUNK = 4096 };

void viz_tmux_wrap(viz_buf *b, const char *seq, size_t n) {
  viz_buf_str(b, "\x1bPtmux;");
  for (size_t i = 0; i < n; i++) {
    if (seq[i] == '\x1b') viz_buf_add(b, "\x1b", 1);
    viz_buf_add(b, seq + i, 1);
  }
  viz_buf_str(b, "\x1b\\");
}

/* Appends the sequence in s to b, through tmux when asked; empties s. */
static void flush_seq(viz_buf *b, viz_buf *s, bool tmux) {
  if (tmux)
    viz_tmux_wrap(b, s->p, s->n);
  else
    viz_buf_add(b, s->p, s->n);
  s->n = 0;
}

static void base64(viz_buf *b, const uint8_t *d, size_t n) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) |
                 (i + 2 < n ? d[i + 2] : 0);
    char q[4] = {tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < n ? tab[v >> 6 & 63] : '=',
                 i + 2 < n ? tab[v & 63] : '='};
    viz_buf_add(b, q, 4);
  }
}

bool viz_kitty_encode(viz_buf *b, const uint8_t *rgba, int w, int h, const viz_kitty_opts *o) {
  size_t n = (size_t)w * h * 3;
  uint8_t *data = malloc(n ? n : 1);
  if (!data) return false;
  for (size_t i = 0; i < (size_t)w * h; i++) memcpy(data + 3 * i, rgba + 4 * i, 3);
  uint8_t *payload = data;
  size_t len = n;
  if (o->compress) {
    uLongf zn = compressBound(n);
    payload = malloc(zn);
    if (!payload || compress2(payload, &zn, data, n, 6) != Z_OK) {
      free(payload);
      free(data);
      return false;
    }
    len = zn;
  }
  viz_buf enc = {0}, seq = {0};
  base64(&enc, payload, len);
  if (payload != data) free(payload);
  free(data);
  if (enc.failed) return viz_buf_free(&enc), false;
  for (size_t at = 0; at < enc.n || at == 0; at += CHUNK) {
    size_t k = enc.n - at < CHUNK ? enc.n - at : CHUNK;
    bool more = at + k < enc.n;
    viz_buf_str(&seq, "\x1b_G");
    if (at == 0) {
      viz_buf_printf(&seq, "a=T,f=24,s=%d,v=%d", w, h);
      if (o->compress) viz_buf_str(&seq, ",o=z");
      if (o->id) viz_buf_printf(&seq, ",i=%u", o->id);
      if (o->placement) viz_buf_printf(&seq, ",p=%u", o->placement);
      if (o->cols > 0) viz_buf_printf(&seq, ",c=%d", o->cols);
      if (o->rows > 0) viz_buf_printf(&seq, ",r=%d", o->rows);
      viz_buf_str(&seq, ",C=1,q=2,");
    }
    viz_buf_printf(&seq, "m=%d;", more ? 1 : 0);
    viz_buf_add(&seq, enc.p + at, k);
    viz_buf_str(&seq, "\x1b\\");
    flush_seq(b, &seq, o->tmux);
    if (!more) break;
  }
  bool ok = !seq.failed && !b->failed;
  viz_buf_free(&seq);
  viz_buf_free(&enc);
  return ok;
}

/* ---- sixel ---- */

typedef struct palette {
  uint32_t color[256];
  int n;
  bool fixed; /* the cube and the grays */
} palette;

/* The image's own colors when there are at most 256 of them (in order of appearance). */
static bool own_colors(const uint8_t *rgba, size_t npx, palette *p, uint8_t *index) {
  enum { SLOTS = 1024 };
  int32_t slot[SLOTS];
  memset(slot, -1, sizeof slot);
  p->n = 0;
  for (size_t i = 0; i < npx; i++) {
    uint32_t c = (uint32_t)rgba[4 * i] << 16 | (uint32_t)rgba[4 * i + 1] << 8 | rgba[4 * i + 2];
    unsigned h = (c * 2654435761u) >> 22;
    while (slot[h] >= 0 && p->color[slot[h]] != c) h = (h + 1) % SLOTS;
    if (slot[h] < 0) {
      if (p->n == 256) return false;
      p->color[p->n] = c;
      slot[h] = p->n++;
    }
    index[i] = (uint8_t)slot[h];
  }
  return true;
}

static void fixed_colors(const uint8_t *rgba, size_t npx, palette *p, uint8_t *index) {
  static const int cube[6] = {0, 95, 135, 175, 215, 255};
  p->n = 240, p->fixed = true;
  for (int i = 0; i < 216; i++)
    p->color[i] = (uint32_t)cube[i / 36] << 16 | (uint32_t)cube[i / 6 % 6] << 8 | cube[i % 6];
  for (int k = 0; k < 24; k++) p->color[216 + k] = (uint32_t)(8 + 10 * k) * 0x010101u;
  for (size_t i = 0; i < npx; i++) {
    viz_color c = (viz_color)rgba[4 * i] << 16 | (viz_color)rgba[4 * i + 1] << 8 | rgba[4 * i + 2];
    index[i] = (uint8_t)(viz_color256(c) - 16);
  }
}

static void sixel_run(viz_buf *b, int ch, int count) {
  if (count >= 4)
    viz_buf_printf(b, "!%d%c", count, ch);
  else
    for (int i = 0; i < count; i++) viz_buf_add(b, &(char){(char)ch}, 1);
}

/* One band (rows y0 .. y0 + 5) of the image, color by color. */
static void band(viz_buf *b, const uint8_t *index, int w, int h, int y0, int ncolors,
                 uint8_t *bits) {
  bool used[256] = {0};
  int rows = h - y0 < 6 ? h - y0 : 6;
  for (int y = 0; y < rows; y++)
    for (int x = 0; x < w; x++) used[index[(size_t)(y0 + y) * w + x]] = true;
  bool first = true;
  for (int c = 0; c < ncolors; c++) {
    if (!used[c]) continue;
    memset(bits, 0, (size_t)w);
    for (int y = 0; y < rows; y++)
      for (int x = 0; x < w; x++)
        if (index[(size_t)(y0 + y) * w + x] == c) bits[x] |= (uint8_t)(1 << y);
    if (!first) viz_buf_add(b, "$", 1);
    first = false;
    viz_buf_printf(b, "#%d", c);
    int run = 0, prev = -1;
    for (int x = 0; x < w; x++) {
      int ch = 63 + bits[x];
      if (ch != prev && run) sixel_run(b, prev, run), run = 0;
      prev = ch, run++;
    }
    if (prev != 63) sixel_run(b, prev, run); /* trailing empty columns need not be sent */
  }
  viz_buf_add(b, "-", 1);
}

bool viz_sixel_encode(viz_buf *b, const uint8_t *rgba, int w, int h, bool tmux) {
  size_t npx = (size_t)w * h;
  uint8_t *index = malloc(npx ? npx : 1), *bits = malloc(w ? (size_t)w : 1);
  palette p = {.n = 0};
  if (!index || !bits) return free(index), free(bits), false;
  if (!own_colors(rgba, npx, &p, index)) fixed_colors(rgba, npx, &p, index);
  viz_buf s = {0};
  viz_buf_printf(&s, "\x1bPq\"1;1;%d;%d", w, h);
  for (int i = 0; i < p.n; i++) {
    uint32_t c = p.color[i];
    viz_buf_printf(&s, "#%d;2;%d;%d;%d", i, (int)((c >> 16 & 255) * 100 + 127) / 255,
                   (int)((c >> 8 & 255) * 100 + 127) / 255, (int)((c & 255) * 100 + 127) / 255);
  }
  for (int y0 = 0; y0 < h; y0 += 6) band(&s, index, w, h, y0, p.n, bits);
  viz_buf_str(&s, "\x1b\\");
  free(index);
  free(bits);
  bool ok = !s.failed;
  if (ok) flush_seq(b, &s, tmux);
  viz_buf_free(&s);
  return ok && !b->failed;
}
