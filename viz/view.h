/*
** viz/view.h: a view, its panels, and its window (when there is one).
**
** A view owns a canvas and the data of its four panels (loss curves, sparsity, the alignment
** angles of a learning rule, partition),
** laid out by which of them have data. Drawing always goes to the canvas; a window, when the
** view has one, shows the canvas 1:1 on its surface, sending only the rows and columns that
** changed since it last showed it. Data calls only mark the view dirty; the
** canvas is redrawn by viz_view_update (windows, rate-limited) or viz_view_save (always).
**
** Rate limit: a window is redrawn at most 30 times a second, and never sooner than 40 times
** the last redraw's cost after it, so the view takes at most about 2.5% of a training loop
** that calls update after every step, however slow drawing is.
**
** Closing (q, the close button, or viz_view_close) destroys the window only: the data stays,
** data calls still record, and saving still draws and writes PNG.
*/
#ifndef VIZ_VIEW_H
#define VIZ_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "viz/canvas.h"
#include "viz/partition.h"
#include "viz/plot.h"
#include "viz/sparsity.h"

typedef struct viz_window viz_window; /* SDL's parts, in window.c */
typedef struct viz_term viz_term;     /* the terminal's, in term.c */

typedef struct viz_view {
  viz_canvas canvas;
  viz_plot plot;
  viz_sparsity sparsity;
  viz_plot angles; /* a curve panel of its own: degrees against steps */
  viz_partition partition;
  char *title;
  int w, h;         /* the canvas size: as opened, then the window's */
  bool headless;    /* never had a window */
  bool terminal;    /* drawn in the terminal (v->term), now or before it was closed */
  bool closed;      /* closed by the user or by viz_view_close */
  bool paused;      /* toggled by p */
  bool dirty;       /* the data changed since the canvas was drawn */
  bool unshown;     /* the window needs the canvas shown again (exposed, resized) */
  double next_draw; /* seconds (monotonic): the earliest next redraw of the window */
  long frames;      /* how many times the window was redrawn (tests check the rate) */
  viz_window *win;  /* NULL when headless or closed */
  viz_term *term;   /* the terminal the view is drawn in (viz/term.h), or NULL */
  const char *hint; /* shown at the right of the header when not paused, or NULL */
} viz_view;

/* Whether a window can be opened: a display is named ($DISPLAY or $WAYLAND_DISPLAY) and SDL's
   video starts on it. */
bool viz_display_available(void);

/* Opens a view of w x h pixels with a window, unless headless is asked or no window can be
   opened (v->headless tells). -1 with a message in err when out of memory. */
int viz_view_open(viz_view *v, const char *title, int w, int h, bool headless, char *err,
                  size_t errlen);
void viz_view_close(viz_view *v); /* the window goes; the view stays usable */
void viz_view_free(viz_view *v);  /* everything goes */

/* Handles the pending events of every window, and redraws this view's window when it is
   dirty and due. Returns false once the view is closed. */
bool viz_view_update(viz_view *v);
/* The same for every open window (the REPL's idle hook). */
void viz_update_all(void);
/* Handles events for up to `seconds` while v is paused, redrawing as needed; returns early
   when unpaused or closed. Returns v->paused. */
bool viz_view_wait(viz_view *v, double seconds);
/* Keeps v's window shown and answering keys for up to `seconds`, or until it is closed (the
   end of a script, or a pause that paces an animation), drawing it at once when its data
   changed. Returns whether the window is still open. */
bool viz_view_linger(viz_view *v, double seconds);

/* Draws the canvas now, whatever the rate limit. */
void viz_view_render(viz_view *v);
/* Draws the canvas if needed and writes it to path as PNG (atomically). -1 and err on
   failure. */
int viz_view_save(viz_view *v, const char *path, char *err, size_t errlen);
/* Draws and shows the canvas, then reads the window's pixels back and writes them as PNG:
   what the window shows. -1 and err on failure (no window, read error). */
int viz_view_screenshot(viz_view *v, const char *path, char *err, size_t errlen);
/* Tests: the windows' clock reads t seconds (until set again; t < 0: the real clock again),
   so that the rate limit is tested by counting redraws, not by waiting. */
void viz_test_clock(double t);
/* Pushes a key press to v's window as if typed (tests); -1 when v has no window. */
int viz_view_push_key(viz_view *v, char key);
/* Pushes a click on v's window close button (tests); -1 when v has no window. */
int viz_view_push_close(viz_view *v);
/* Resizes v's window as a user would (tests); -1 when v has no window. */
int viz_view_resize_window(viz_view *v, int w, int h);

/* Key actions, shared by the window and the binding. */
void viz_view_toggle_log(viz_view *v);
void viz_view_set_paused(viz_view *v, bool paused);
/* relua-view-<n>.png with the first n that names no file in the current directory. */
void viz_default_path(char *out, size_t n);
/* Saves to relua-view-<n>.png (the first free n) in the current directory and prints the
   path; returns 0 or -1. */
int viz_view_save_default(viz_view *v);

#endif
