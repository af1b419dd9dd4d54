/*
** viz/termshot.c: a terminal's cells as a picture: what `tmux capture-pane -e` printed (text
** with SGR color sequences) drawn into a canvas at 8 x 16 pixels a cell, braille dots and
** block elements drawn as shapes, other characters in the view's font. For the README's
** screenshot and for looking at what a test captured: viz._term_png(text, cols, rows, path).
*/
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "viz/cells.h"
#include "viz/lterm.h"
#include "viz/lvalues.h"
#include "viz/png.h"
#include "viz/text.h"

enum { CW = 8, CH = 16 };
#define DEFAULT_FG 0xd4d4d4u
#define DEFAULT_BG 0x1e1f22u

static const viz_color ansi16[16] = {0x000000, 0xcd3131, 0x0dbc79, 0xe5e510, 0x2472c8, 0xbc3fbc,
                                     0x11a8cd, 0xe5e5e5, 0x666666, 0xf14c4c, 0x23d18b, 0xf5f543,
                                     0x3b8eea, 0xd670d6, 0x29b8db, 0xffffff};

static viz_color color256(int n) {
  static const int cube[6] = {0, 95, 135, 175, 215, 255};
  if (n < 16) return ansi16[n < 0 ? 0 : n];
  if (n >= 232) return (viz_color)(8 + 10 * (n - 232)) * 0x010101u;
  n -= 16;
  return (viz_color)cube[n / 36] << 16 | (viz_color)cube[n / 6 % 6] << 8 | (viz_color)cube[n % 6];
}

/* Applies the SGR parameters p[0..n) to the colors. */
static void sgr(const int *p, int n, viz_color *fg, viz_color *bg) {
  if (n == 0) *fg = DEFAULT_FG, *bg = DEFAULT_BG;
  for (int i = 0; i < n; i++) {
    int k = p[i];
    if (k == 0)
      *fg = DEFAULT_FG, *bg = DEFAULT_BG;
    else if (k == 39)
      *fg = DEFAULT_FG;
    else if (k == 49)
      *bg = DEFAULT_BG;
    else if (k >= 30 && k <= 37)
      *fg = ansi16[k - 30];
    else if (k >= 40 && k <= 47)
      *bg = ansi16[k - 40];
    else if (k >= 90 && k <= 97)
      *fg = ansi16[k - 90 + 8];
    else if ((k == 38 || k == 48) && i + 1 < n) {
      viz_color c = 0;
      if (p[i + 1] == 2 && i + 4 < n)
        c = (viz_color)p[i + 2] << 16 | (viz_color)p[i + 3] << 8 | (viz_color)p[i + 4], i += 4;
      else if (p[i + 1] == 5 && i + 2 < n)
        c = color256(p[i + 2]), i += 2;
      else
        continue;
      *(k == 38 ? fg : bg) = c;
    }
  }
}

static void glyph(viz_canvas *c, int x, int y, uint32_t cp, const char *utf8, viz_color fg) {
  if (cp >= 0x2800 && cp <= 0x28FF) { /* braille: dots 1-3,7 on the left, 4-6,8 on the right */
    static const int bit[8][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}, {0, 3}, {1, 3}};
    for (int b = 0; b < 8; b++)
      if (cp & (1u << b))
        viz_fill_circle(c, x + 2.0 + 4 * bit[b][0], y + 2.0 + 4 * bit[b][1], 1.4, fg, 1);
  } else if (cp == 0x2580) {
    viz_fill_rect(c, (viz_rect){x, y, CW, CH / 2}, fg, 1);
  } else if (cp == 0x2584) {
    viz_fill_rect(c, (viz_rect){x, y + CH / 2, CW, CH / 2}, fg, 1);
  } else if (cp == 0x2588) {
    viz_fill_rect(c, (viz_rect){x, y, CW, CH}, fg, 1);
  } else if (cp != ' ') {
    viz_text(c, VIZ_NORMAL, x + CW / 2, y + CH / 2, VIZ_CENTER | VIZ_MIDDLE, fg, utf8);
  }
}

/* Draws the captured text s into c (cols x rows cells). */
static void draw(viz_canvas *c, const char *s, int cols, int rows) {
  viz_color fg = DEFAULT_FG, bg = DEFAULT_BG;
  int r = 0, k = 0;
  while (*s && r < rows) {
    if (*s == '\x1b' && s[1] == '[') {
      int p[32], n = 0, v = 0;
      bool any = false;
      const char *q = s + 2;
      for (; *q && (*q == ';' || *q == ':' || (*q >= '0' && *q <= '9')); q++) {
        if (*q == ';' || *q == ':') {
          if (n < 32) p[n++] = v;
          v = 0, any = false;
        } else {
          v = v * 10 + (*q - '0'), any = true;
        }
      }
      if (any && n < 32) p[n++] = v;
      if (*q == 'm') sgr(p, n, &fg, &bg);
      s = *q ? q + 1 : q;
      continue;
    }
    if (*s == '\n') {
      r++, k = 0, s++;
      continue;
    }
    const char *start = s;
    s++;
    while ((*s & 0xC0) == 0x80) s++;
    char one[8] = {0};
    memcpy(one, start, (size_t)(s - start) < 7 ? (size_t)(s - start) : 7);
    uint32_t cp = (unsigned char)one[0];
    if (cp >= 0xC0) {
      int extra = cp >= 0xF0 ? 3 : cp >= 0xE0 ? 2 : 1;
      cp &= 0x3Fu >> extra;
      for (int i = 1; i <= extra && one[i]; i++) cp = cp << 6 | ((unsigned char)one[i] & 0x3F);
    }
    if (k < cols) {
      viz_fill_rect(c, (viz_rect){k * CW, r * CH, CW, CH}, bg, 1);
      glyph(c, k * CW, r * CH, cp, one, fg);
    }
    k++;
  }
}

/* viz._term_png(text, cols, rows, path) */
int viz_term_png(lua_State *L) {
  const char *fn = "viz._term_png";
  const char *s = luaL_checkstring(L, 1);
  int cols = (int)luaL_checkinteger(L, 2), rows = (int)luaL_checkinteger(L, 3);
  const char *path = luaL_checkstring(L, 4);
  if (cols < 1 || rows < 1 || cols > 500 || rows > 300) viz_error(L, fn, "bad size");
  viz_canvas c = {0};
  if (!viz_canvas_resize(&c, cols * CW, rows * CH)) viz_error(L, fn, "out of memory");
  viz_canvas_noclip(&c);
  viz_fill(&c, DEFAULT_BG);
  draw(&c, s, cols, rows);
  char err[256];
  int rc = viz_png_write(path, c.px, c.w, c.h, err, sizeof err);
  viz_canvas_free(&c);
  if (rc < 0) viz_error(L, fn, "%s", err);
  return 0;
}
