/*
** viz/text.c: fonts, a cache of rendered strings, and text drawing.
**
** The cache is direct-mapped on a hash of (font, string): a collision simply renders again.
** A frame draws a few dozen strings, most of them the same as in the previous frame.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "viz/text.h"

enum { CACHE_SLOTS = 512, MAX_TEXT = 256 };

static const int font_px[VIZ_NFONTS] = {11, 12, 14};

static const char *const font_paths[] = {
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    NULL,
};

typedef struct rendered {
  viz_font font;
  char *text; /* NULL: an empty slot */
  int w, h;
  uint8_t *mask;
} rendered;

static struct {
  int state; /* 0: not tried, 1: open, -1: failed */
  TTF_Font *font[VIZ_NFONTS];
  rendered cache[CACHE_SLOTS];
  viz_text_tracer tracer;
  void *tracer_ud;
  viz_text_sink sink; /* cell mode, when set */
  viz_picture_sink pictures;
  void *sink_ud;
  int cw, ch;
} text;

void viz_text_cells(int cw, int ch, viz_text_sink sink, viz_picture_sink pictures, void *ud) {
  text.sink = sink, text.sink_ud = ud, text.pictures = pictures;
  text.cw = cw > 0 ? cw : 1, text.ch = ch > 0 ? ch : 1;
}

void viz_picture(const viz_canvas *c, viz_rect r) {
  if (!text.sink || !text.pictures) return;
  viz_rect k = c->clip;
  int x0 = r.x > k.x ? r.x : k.x, y0 = r.y > k.y ? r.y : k.y;
  int x1 = r.x + r.w < k.x + k.w ? r.x + r.w : k.x + k.w;
  int y1 = r.y + r.h < k.y + k.h ? r.y + r.h : k.y + k.h;
  if (x1 > x0 && y1 > y0) text.pictures(text.sink_ud, (viz_rect){x0, y0, x1 - x0, y1 - y0});
}

bool viz_text_in_cells(void) {
  return text.sink != NULL;
}

static int scaled(int n, int unit, int per) {
  return n * unit / per;
}

int viz_sx(int n) {
  return text.sink ? scaled(n, text.cw, 7) : n;
}

int viz_sy(int n) {
  return text.sink ? scaled(n, text.ch, 14) : n;
}

/* characters (UTF-8 code points) in s */
static int codepoints(const char *s) {
  int n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

static const char *pick_font_path(void) {
  const char *env = getenv("RELUA_FONT");
  if (env && *env) return env;
  for (const char *const *p = font_paths; *p; p++) {
    FILE *f = fopen(*p, "rb");
    if (f) {
      fclose(f);
      return *p;
    }
  }
  return NULL;
}

static bool open_fonts(void) {
  if (text.state) return text.state > 0;
  text.state = -1;
  const char *path = pick_font_path();
  if (!path) {
    fprintf(stderr, "viz: no font found (install fonts-dejavu-core or set RELUA_FONT); "
                    "drawing without text\n");
    return false;
  }
  if (TTF_Init() != 0) {
    fprintf(stderr, "viz: TTF_Init failed (%s); drawing without text\n", TTF_GetError());
    return false;
  }
  for (int i = 0; i < VIZ_NFONTS; i++) {
    text.font[i] = TTF_OpenFont(path, font_px[i]);
    if (!text.font[i]) {
      fprintf(stderr, "viz: cannot open font %s (%s); drawing without text\n", path,
              TTF_GetError());
      viz_text_shutdown();
      text.state = -1;
      return false;
    }
    TTF_SetFontHinting(text.font[i], TTF_HINTING_LIGHT);
  }
  text.state = 1;
  return true;
}

void viz_text_shutdown(void) {
  for (int i = 0; i < CACHE_SLOTS; i++) {
    free(text.cache[i].text);
    free(text.cache[i].mask);
    text.cache[i] = (rendered){0};
  }
  for (int i = 0; i < VIZ_NFONTS; i++) {
    if (text.font[i]) TTF_CloseFont(text.font[i]);
    text.font[i] = NULL;
  }
  if (text.state > 0) TTF_Quit();
  text.state = 0;
}

void viz_text_trace(viz_text_tracer f, void *ud) {
  text.tracer = f;
  text.tracer_ud = ud;
}

static unsigned hash(viz_font f, const char *s) {
  unsigned h = 2166136261u ^ (unsigned)f;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h % CACHE_SLOTS;
}

/* The coverage of each pixel of a rendered surface (alpha of white text). */
static uint8_t *surface_mask(SDL_Surface *s) {
  uint8_t *mask = malloc((size_t)s->w * (size_t)s->h);
  if (!mask) return NULL;
  if (SDL_MUSTLOCK(s)) SDL_LockSurface(s);
  const SDL_PixelFormat *fmt = s->format;
  for (int y = 0; y < s->h; y++) {
    const uint8_t *row = (const uint8_t *)s->pixels + (size_t)y * s->pitch;
    for (int x = 0; x < s->w; x++) {
      uint32_t p;
      memcpy(&p, row + (size_t)x * 4, 4);
      mask[(size_t)y * s->w + x] = (uint8_t)((p & fmt->Amask) >> fmt->Ashift);
    }
  }
  if (SDL_MUSTLOCK(s)) SDL_UnlockSurface(s);
  return mask;
}

/* The cached rendering of s, rendering it when missing; NULL when nothing can be drawn. */
static const rendered *render(viz_font f, const char *s) {
  if (!*s || !open_fonts()) return NULL;
  rendered *r = &text.cache[hash(f, s)];
  if (r->text && r->font == f && strcmp(r->text, s) == 0) return r;
  free(r->text);
  free(r->mask);
  *r = (rendered){0};
  SDL_Surface *surf = TTF_RenderUTF8_Blended(text.font[f], s, (SDL_Color){255, 255, 255, 255});
  if (!surf) return NULL;
  SDL_Surface *argb = surf->format->BytesPerPixel == 4
                          ? surf
                          : SDL_ConvertSurfaceFormat(surf, SDL_PIXELFORMAT_ARGB8888, 0);
  if (argb) {
    r->mask = surface_mask(argb);
    r->w = argb->w;
    r->h = argb->h;
    if (argb != surf) SDL_FreeSurface(argb);
  }
  SDL_FreeSurface(surf);
  r->text = r->mask ? strdup(s) : NULL;
  if (!r->text) {
    free(r->mask);
    *r = (rendered){0};
    return NULL;
  }
  r->font = f;
  return r;
}

int viz_text_width(viz_font f, const char *s) {
  if (text.sink) return codepoints(s) * text.cw;
  int w = 0;
  if (*s && open_fonts()) TTF_SizeUTF8(text.font[f], s, &w, NULL);
  return w;
}

int viz_text_up_width(viz_font f) {
  return text.sink ? text.cw : viz_text_height(f);
}

int viz_text_height(viz_font f) {
  if (text.sink) return text.ch;
  return open_fonts() ? TTF_FontHeight(text.font[f]) : font_px[f] + 3;
}

/* The top-left corner of a w x h box anchored at (x, y). */
static void anchor(int align, int w, int h, int *x, int *y) {
  if (align & VIZ_CENTER) *x -= w / 2;
  if (align & VIZ_RIGHT) *x -= w;
  if (align & VIZ_MIDDLE) *y -= h / 2;
  if (align & VIZ_BOTTOM) *y -= h;
}

int viz_text(viz_canvas *c, viz_font f, int x, int y, int align, viz_color col, const char *s) {
  if (text.sink) {
    int w = viz_text_width(f, s);
    anchor(align, w, text.ch, &x, &y);
    if (*s) text.sink(text.sink_ud, s, x, y, col, c->clip);
    if (text.tracer && *s) text.tracer(text.tracer_ud, s, x, y);
    return w;
  }
  const rendered *r = render(f, s);
  if (!r) return 0;
  anchor(align, r->w, r->h, &x, &y);
  viz_mask(c, x, y, r->mask, r->w, r->h, col);
  if (text.tracer) text.tracer(text.tracer_ud, s, x, y);
  return r->w;
}

/* The longest prefix of s (whole UTF-8 characters) that fits in maxw with "..." after it. */
static void shorten(viz_font f, const char *s, int maxw, char *out) {
  size_t n = strlen(s);
  if (n >= MAX_TEXT - 4) n = MAX_TEXT - 4;
  while (n > 0) {
    do n--;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80);
    memcpy(out, s, n);
    strcpy(out + n, "...");
    if (viz_text_width(f, out) <= maxw) return;
  }
  strcpy(out, "...");
}

int viz_text_fit(viz_canvas *c, viz_font f, int x, int y, int align, viz_color col, const char *s,
                 int maxw) {
  if (viz_text_width(f, s) <= maxw) return viz_text(c, f, x, y, align, col, s);
  char out[MAX_TEXT];
  shorten(f, s, maxw, out);
  return viz_text(c, f, x, y, align, col, out);
}

void viz_text_up(viz_canvas *c, viz_font f, int x, int y, viz_color col, const char *s) {
  if (text.sink) return; /* a column of letters reads badly: panels have titles */
  const rendered *r = render(f, s);
  if (!r) return;
  uint8_t *rot = malloc((size_t)r->w * (size_t)r->h);
  if (!rot) return;
  /* (u, v) of the text goes to (v, w - 1 - u): the baseline runs upwards */
  for (int v = 0; v < r->h; v++)
    for (int u = 0; u < r->w; u++)
      rot[(size_t)(r->w - 1 - u) * r->h + v] = r->mask[(size_t)v * r->w + u];
  viz_mask(c, x - r->h / 2, y - r->w / 2, rot, r->h, r->w, col);
  if (text.tracer) text.tracer(text.tracer_ud, s, x - r->h / 2, y - r->w / 2);
  free(rot);
}
