/*
** viz/window.c: SDL windows that show views' canvases, their events, and the rate limit.
**
** SDL's video starts on the first window (or viz.available()) with its signal handlers off:
** Ctrl-C belongs to relua, which turns it into a Lua error; SDL would turn it into a quit
** event nobody asked for. Events are global in SDL, so whichever view pumps them handles
** them for every window, by window id. Closing a window never ends the process.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SDL_MAIN_HANDLED
#include <SDL.h>

#include "viz/png.h"
#include "viz/term.h"
#include "viz/view.h"
#include "viz/window.h"

#define MIN_FRAME (1.0 / 30) /* seconds between redraws, at least */
/* ... and at least this many times the last redraw's cost: redraws take at most 1/60 of the
   time, which leaves room under the view's 5% for the per-step hooks and the machine's noise */
#define COST_FACTOR 60
#define PUMP_EVERY  0.005 /* seconds between two looks for events, at least */

struct viz_window {
  SDL_Window *win;
  uint32_t *shown; /* the canvas as last shown: presents send only what differs from it */
  int sw, sh;      /* its size */
  bool whole;      /* the window lost its pixels (exposed, resized): show all of them */
  Uint32 id;
  viz_view *view;
  viz_window *next;
};

static viz_window *windows; /* every open window */
static bool pushed;         /* a test pushed an event: the next update must see it */
static int video;           /* SDL video: 0 not tried, 1 running, -1 unavailable */

static double test_time = -1; /* the clock a test set (viz_test_clock), or -1: the real one */

static double now(void) {
  if (test_time >= 0) return test_time;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The video drivers that can show a window on the named display: "x11", "wayland,x11", or
   NULL when no display is named. */
static const char *display_drivers(void) {
  const char *x = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
  if (wl && *wl) return "wayland,x11";
  return x && *x ? "x11" : NULL;
}

bool viz_display_available(void) {
  if (video) return video > 0;
  video = -1;
  const char *drivers = display_drivers();
  if (!drivers) return false;
  SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
  SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
  SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
  SDL_SetHint(SDL_HINT_VIDEODRIVER, drivers); /* $SDL_VIDEODRIVER still wins */
  SDL_SetMainReady();
  if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
    fprintf(stderr, "viz: no window (%s); drawing offscreen\n", SDL_GetError());
    return false;
  }
  const char *driver = SDL_GetCurrentVideoDriver();
  if (!driver || strcmp(driver, "dummy") == 0 || strcmp(driver, "offscreen") == 0) {
    fprintf(stderr, "viz: no window (SDL's video driver is %s); drawing offscreen\n",
            driver ? driver : "none");
    SDL_QuitSubSystem(SDL_INIT_VIDEO); /* it "works", but nobody can see it */
    return false;
  }
  /* The canvas is drawn by the CPU: on X11 it goes straight to the window's surface (shared
     memory), not through an OpenGL texture, which would only add an upload and, without a
     GPU (Mesa's llvmpipe, Xvfb), threads that compete with training's BLAS threads. Wayland
     has no such surface: SDL makes it of a texture. */
  if (strcmp(driver, "x11") == 0) SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
  video = 1;
  return true;
}

static viz_window *find(Uint32 id) {
  for (viz_window *w = windows; w; w = w->next)
    if (w->id == id) return w;
  return NULL;
}

enum { BAND = 32 }; /* rows of the canvas compared, and sent, together */

/* Copies rect r of the canvas onto the window's surface s (clipped to it) and records it as
   shown; false when r lies outside s. */
static bool put(viz_window *w, SDL_Surface *s, const viz_canvas *c, SDL_Rect *r) {
  if (r->x + r->w > s->w) r->w = s->w - r->x;
  if (r->y + r->h > s->h) r->h = s->h - r->y;
  if (r->w <= 0 || r->h <= 0) return false;
  const uint32_t *px = (const uint32_t *)c->px, *from = px + (size_t)r->y * c->w + r->x;
  uint8_t *to = (uint8_t *)s->pixels + (size_t)r->y * s->pitch + (size_t)r->x * 4;
  SDL_ConvertPixels(r->w, r->h, SDL_PIXELFORMAT_RGBA32, from, c->w * 4, s->format->format, to,
                    s->pitch);
  for (int y = r->y; y < r->y + r->h; y++)
    memcpy(w->shown + (size_t)y * c->w + r->x, px + (size_t)y * c->w + r->x, (size_t)r->w * 4);
  return true;
}

/* The columns [*x0, *x1) where rows [y0, y1) of the canvas differ from what is shown; false
   when they do not. */
static bool changed_columns(const viz_window *w, const viz_canvas *c, int y0, int y1, int *x0,
                            int *x1) {
  int lo = c->w, hi = 0;
  for (int y = y0; y < y1; y++) {
    const uint32_t *a = (const uint32_t *)c->px + (size_t)y * c->w,
                   *b = w->shown + (size_t)y * c->w;
    if (memcmp(a, b, (size_t)c->w * 4) == 0) continue;
    int l = 0, h = c->w;
    while (a[l] == b[l]) l++;
    while (a[h - 1] == b[h - 1]) h--;
    if (l < lo) lo = l;
    if (h > hi) hi = h;
  }
  *x0 = lo, *x1 = hi;
  return lo < hi;
}

/* Shows the whole canvas 1:1 at the top-left corner, the background around it. */
static bool show_all(viz_window *w, SDL_Surface *s, const viz_canvas *c) {
  size_t n = (size_t)c->w * c->h;
  if (w->sw != c->w || w->sh != c->h) {
    free(w->shown);
    w->shown = calloc(n, 4); /* what the surface cannot hold stays unshown */
    w->sw = w->shown ? c->w : 0, w->sh = w->shown ? c->h : 0;
    if (!w->shown) return false;
  }
  SDL_FillRect(s, NULL, SDL_MapRGB(s->format, 0xf4, 0xf5, 0xf7));
  SDL_Rect r = {0, 0, c->w, c->h};
  put(w, s, c, &r);
  w->whole = false;
  return SDL_UpdateWindowSurface(w->win) == 0;
}

/* Shows the canvas; only the bands of rows that changed since the last time, each from its
   first to its last changed column, are sent: the X server copying the whole window took
   most of a frame's cost, and a training view changes one panel at a time. */
static bool show_canvas(viz_window *w, const viz_canvas *c) {
  SDL_Surface *s = c->px ? SDL_GetWindowSurface(w->win) : NULL;
  if (!s || s->format->BytesPerPixel != 4) return false;
  if (w->whole || w->sw != c->w || w->sh != c->h) return show_all(w, s, c);
  SDL_Rect rs[(c->h + BAND - 1) / BAND];
  int n = 0;
  for (int y = 0; y < c->h; y += BAND) {
    int y1 = y + BAND < c->h ? y + BAND : c->h, x0, x1;
    if (!changed_columns(w, c, y, y1, &x0, &x1)) continue;
    rs[n] = (SDL_Rect){x0, y, x1 - x0, y1 - y};
    if (put(w, s, c, &rs[n])) n++;
  }
  return n == 0 || SDL_UpdateWindowSurfaceRects(w->win, rs, n) == 0;
}

static void show(viz_view *v) {
  show_canvas(v->win, &v->canvas);
  v->unshown = false;
}

/* Redraws v's window when its data changed and the rate limit allows, or shows the canvas
   again when the window lost it. */
static void refresh(viz_view *v) {
  if (!v->win) return;
  double t = now();
  if (v->dirty && t >= v->next_draw) {
    viz_view_render(v);
    show(v);
    v->frames++;
    v->next_draw = t + fmax(MIN_FRAME, COST_FACTOR * (now() - t));
  } else if (v->unshown) {
    show(v);
  }
}

bool viz_window_open(viz_view *v) {
  if (!viz_display_available()) return false;
  viz_window *w = calloc(1, sizeof *w);
  if (!w) return false;
  char title[512];
  snprintf(title, sizeof title,
           "%s \xe2\x80\x94 s save \xc2\xb7 l log \xc2\xb7 p pause \xc2\xb7 q close", v->title);
  w->win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, v->w, v->h,
                            SDL_WINDOW_RESIZABLE);
  if (!w->win || !SDL_GetWindowSurface(w->win)) {
    fprintf(stderr, "viz: no window (%s); drawing offscreen\n", SDL_GetError());
    if (w->win) SDL_DestroyWindow(w->win);
    free(w);
    return false;
  }
  w->id = SDL_GetWindowID(w->win);
  w->view = v;
  w->next = windows;
  windows = w;
  v->win = w;
  viz_view_render(v);
  show(v);
  return true;
}

void viz_window_close(viz_view *v) {
  viz_window *w = v->win;
  if (!w) return;
  for (viz_window **p = &windows; *p; p = &(*p)->next)
    if (*p == w) {
      *p = w->next;
      break;
    }
  free(w->shown);
  SDL_DestroyWindow(w->win);
  free(w);
  v->win = NULL;
  SDL_PumpEvents(); /* lets the window manager see it go now, not at the next update */
}

void viz_window_shutdown(void) {
  if (video > 0 && !windows) {
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    SDL_Quit();
    video = 0;
  }
}

/* ---- events ---- */

static void on_key(viz_view *v, SDL_Keycode key) {
  switch (key) {
  case SDLK_s: viz_view_save_default(v); break;
  case SDLK_l: viz_view_toggle_log(v); break;
  case SDLK_p: viz_view_set_paused(v, !v->paused); break;
  case SDLK_q: viz_view_close(v); break;
  default: break;
  }
}

static void on_window_event(viz_window *w, const SDL_WindowEvent *e) {
  viz_view *v = w->view;
  switch (e->event) {
  case SDL_WINDOWEVENT_CLOSE: viz_view_close(v); break;
  case SDL_WINDOWEVENT_EXPOSED:
    w->whole = true;
    v->unshown = true;
    break;
  case SDL_WINDOWEVENT_SIZE_CHANGED: {
    int ww, wh;
    SDL_GetWindowSize(w->win, &ww, &wh);
    w->whole = true; /* SDL makes the window a new surface */
    if (ww > 0 && wh > 0 && (ww != v->w || wh != v->h)) {
      v->w = ww, v->h = wh;
      v->dirty = true;
      v->next_draw = 0; /* a resize redraws at once */
    }
    break;
  }
  default: break;
  }
}

static void handle(const SDL_Event *e) {
  viz_window *w;
  if (e->type == SDL_WINDOWEVENT && (w = find(e->window.windowID)))
    on_window_event(w, &e->window);
  else if (e->type == SDL_KEYDOWN && !e->key.repeat && (w = find(e->key.windowID)))
    on_key(w->view, e->key.keysym.sym);
}

/* Handles pending events. Asking X for them costs microseconds, which a loop calling update
   after every small step would feel, so it is done at most every PUMP_EVERY seconds unless
   forced. */
static void pump(bool force) {
  static double last;
  if (video <= 0 || !windows) return;
  double t = now();
  if (!force && !pushed && t - last < PUMP_EVERY) return;
  last = t;
  pushed = false;
  SDL_Event e;
  while (SDL_PollEvent(&e)) handle(&e);
}

bool viz_view_update(viz_view *v) {
  if (v->term) {
    viz_term_update(v, false);
    return !v->closed;
  }
  pump(false);
  refresh(v);
  return !v->closed;
}

void viz_update_all(void) {
  pump(true);
  for (viz_window *w = windows; w; w = w->next) refresh(w->view);
}

/* Handles events for up to `seconds` while v has its window (and, with paused_only, while it
   is paused), redrawing as needed. */
static void wait_events(viz_view *v, double seconds, bool paused_only) {
  double end = now() + seconds;
  pump(true);
  while (v->win && (v->paused || !paused_only)) {
    for (viz_window *w = windows; w; w = w->next) refresh(w->view);
    double left = end - now();
    if (left <= 0) break;
    SDL_Event e;
    if (SDL_WaitEventTimeout(&e, (int)ceil(fmin(left, 0.05) * 1000))) {
      handle(&e);
      pump(true);
    }
  }
}

bool viz_view_wait(viz_view *v, double seconds) {
  if (v->term) return viz_term_wait(v, seconds);
  wait_events(v, seconds, true);
  return v->win && v->paused;
}

bool viz_view_linger(viz_view *v, double seconds) {
  if (v->term) {
    viz_term_update(v, true); /* drawn now; a terminal view waits for nobody */
    return true;
  }
  v->next_draw = 0; /* the program idles: drawing now takes nothing from it */
  wait_events(v, seconds, false);
  return v->win != NULL;
}

/* ---- tests ---- */

int viz_view_screenshot(viz_view *v, const char *path, char *err, size_t errlen) {
  viz_window *w = v->win;
  if (!w) {
    snprintf(err, errlen, "the view has no window");
    return -1;
  }
  viz_view_render(v);
  w->whole = true;
  const viz_canvas *c = &v->canvas;
  SDL_Surface *s = SDL_GetWindowSurface(w->win);
  uint8_t *px = malloc((size_t)c->w * (size_t)c->h * 4);
  int rc = -1;
  if (!px)
    snprintf(err, errlen, "out of memory");
  else if (!show_canvas(w, c) || s->w < c->w || s->h < c->h ||
           SDL_ConvertPixels(c->w, c->h, s->format->format, s->pixels, s->pitch,
                             SDL_PIXELFORMAT_RGBA32, px, c->w * 4) != 0)
    snprintf(err, errlen, "cannot read the window's pixels (%s)", SDL_GetError());
  else
    rc = viz_png_write(path, px, c->w, c->h, err, errlen);
  v->unshown = false;
  free(px);
  return rc;
}

static int push(viz_view *v, SDL_Event *e) {
  if (!v->win) return -1;
  pushed = true;
  return SDL_PushEvent(e) == 1 ? 0 : -1;
}

void viz_test_clock(double t) {
  if (test_time < 0 && t >= 0) /* from the real clock to the test's: no redraw is owed yet */
    for (viz_window *w = windows; w; w = w->next) w->view->next_draw = 0;
  test_time = t < 0 ? -1 : t;
}

int viz_view_push_key(viz_view *v, char key) {
  SDL_Event e = {.type = SDL_KEYDOWN};
  e.key.windowID = v->win ? v->win->id : 0;
  e.key.state = SDL_PRESSED;
  e.key.keysym.sym = (SDL_Keycode)key;
  return push(v, &e);
}

int viz_view_push_close(viz_view *v) {
  SDL_Event e = {.type = SDL_WINDOWEVENT};
  e.window.windowID = v->win ? v->win->id : 0;
  e.window.event = SDL_WINDOWEVENT_CLOSE;
  return push(v, &e);
}

int viz_view_resize_window(viz_view *v, int w, int h) {
  if (!v->win) return -1;
  SDL_SetWindowSize(v->win->win, w, h);
  pushed = true;
  return 0;
}
