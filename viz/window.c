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
#include "viz/view.h"
#include "viz/window.h"

#define MIN_FRAME   (1.0 / 30) /* seconds between redraws, at least */
#define COST_FACTOR 24         /* ... and at least this many times the last redraw's cost */
#define PUMP_EVERY  0.005      /* seconds between two looks for events, at least */

struct viz_window {
  SDL_Window *win;
  SDL_Renderer *ren;
  SDL_Texture *tex;
  int tw, th; /* the texture's size */
  Uint32 id;
  viz_view *view;
  viz_window *next;
};

static viz_window *windows; /* every open window */
static bool pushed;         /* a test pushed an event: the next update must see it */
static int video;           /* SDL video: 0 not tried, 1 running, -1 unavailable */

static double now(void) {
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
  video = 1;
  return true;
}

static viz_window *find(Uint32 id) {
  for (viz_window *w = windows; w; w = w->next)
    if (w->id == id) return w;
  return NULL;
}

/* Shows the canvas 1:1 at the top-left corner; false when SDL fails. */
static bool copy_canvas(viz_window *w, const viz_canvas *c) {
  if (!c->px) return false;
  if (!w->tex || w->tw != c->w || w->th != c->h) {
    if (w->tex) SDL_DestroyTexture(w->tex);
    w->tex =
        SDL_CreateTexture(w->ren, SDL_PIXELFORMAT_RGBA32, SDL_TEXTUREACCESS_STREAMING, c->w, c->h);
    if (!w->tex) return false;
    SDL_SetTextureBlendMode(w->tex, SDL_BLENDMODE_NONE);
    w->tw = c->w, w->th = c->h;
  }
  SDL_Rect dst = {0, 0, c->w, c->h};
  SDL_SetRenderDrawColor(w->ren, 0xf4, 0xf5, 0xf7, 255);
  return SDL_UpdateTexture(w->tex, NULL, c->px, c->w * 4) == 0 && SDL_RenderClear(w->ren) == 0 &&
         SDL_RenderCopy(w->ren, w->tex, NULL, &dst) == 0;
}

static void show(viz_view *v) {
  if (copy_canvas(v->win, &v->canvas)) SDL_RenderPresent(v->win->ren);
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

static SDL_Renderer *make_renderer(SDL_Window *win) {
  SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "nearest");
  SDL_SetHint(SDL_HINT_RENDER_VSYNC, "0"); /* presenting must never wait for the screen */
  /* The canvas is drawn by the CPU, so a GPU renderer only adds a texture upload; without a
     GPU (Mesa's llvmpipe, Xvfb) its rasterizer threads also compete with training's BLAS
     threads (on two cores: +20% on an epoch with the view on, against +8% in software).
     $SDL_RENDER_DRIVER still wins. */
  SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
  SDL_Renderer *ren = SDL_CreateRenderer(win, -1, 0);
  return ren ? ren : SDL_CreateRenderer(win, -1, SDL_RENDERER_SOFTWARE);
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
  w->ren = w->win ? make_renderer(w->win) : NULL;
  if (!w->ren) {
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
  if (w->tex) SDL_DestroyTexture(w->tex);
  SDL_DestroyRenderer(w->ren);
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
  case SDL_WINDOWEVENT_EXPOSED: v->unshown = true; break;
  case SDL_WINDOWEVENT_SIZE_CHANGED: {
    int ww, wh;
    if (SDL_GetRendererOutputSize(w->ren, &ww, &wh) == 0 && ww > 0 && wh > 0 &&
        (ww != v->w || wh != v->h)) {
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
  wait_events(v, seconds, true);
  return v->win && v->paused;
}

bool viz_view_linger(viz_view *v, double seconds) {
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
  const viz_canvas *c = &v->canvas;
  uint8_t *px = malloc((size_t)c->w * (size_t)c->h * 4);
  SDL_Rect r = {0, 0, c->w, c->h};
  int rc = -1;
  if (!px)
    snprintf(err, errlen, "out of memory");
  else if (!copy_canvas(w, c) ||
           SDL_RenderReadPixels(w->ren, &r, SDL_PIXELFORMAT_RGBA32, px, c->w * 4) != 0)
    snprintf(err, errlen, "cannot read the window's pixels (%s)", SDL_GetError());
  else
    rc = viz_png_write(path, px, c->w, c->h, err, errlen);
  SDL_RenderPresent(w->ren);
  free(px);
  return rc;
}

static int push(viz_view *v, SDL_Event *e) {
  if (!v->win) return -1;
  pushed = true;
  return SDL_PushEvent(e) == 1 ? 0 : -1;
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
