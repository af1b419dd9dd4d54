/*
** viz/term.h: the terminal backend of a view: its panels drawn in the terminal relua runs in.
**
** The view takes the bottom rows of the screen; the rows above it become the scrolling region
** (DECSTBM), so the log and the progress bar scroll there and never over the panels, and
** lines scrolled off its top go to the terminal's history as usual. Each frame is drawn with
** the cursor saved and hidden, and restored and shown again at its end (one write). Frames
** are drawn as text (viz/cells.h: braille or half blocks), or as an image where the terminal
** shows them (viz/graphics.h: kitty, sixel).
**
** The mode is chosen by $RELUA_VIZ_TERM (kitty, sixel, text, braille, blocks), else from the
** environment ($TERM, $TERM_PROGRAM, $KITTY_WINDOW_ID, ...), else by asking the terminal
** (a kitty graphics query and the primary device attributes, whose attribute 4 is sixel; 0.2
** s at most), else text. In tmux, images go through its passthrough when allow-passthrough is
** on, and the terminal is not asked. Colors: 24-bit with $COLORTERM truecolor or 24bit, none
** with $NO_COLOR or TERM=dumb, 256 otherwise.
**
** Redraws are rate-limited: at most 10 a second for text, 2 for images, and never sooner than
** 40 times the last frame's cost after it. A text frame sends only the cells that changed. The
** terminal's size is looked at on every redraw: a new size redraws everything at it.
**
** With keys (during nn.fit, when standard input is a terminal), the terminal is put in
** non-canonical mode without echo (signals stay: Ctrl-C still interrupts) and p pauses, q
** closes. Closing (or the end of the program) leaves the last frame where it is, the cursor
** below it, the scrolling region, the cursor and the attributes as they were.
*/
#ifndef VIZ_TERM_H
#define VIZ_TERM_H

#include <stdbool.h>
#include <stddef.h>

#include "viz/cells.h"
#include "viz/view.h"

typedef enum viz_term_mode { VIZ_TERM_TEXT, VIZ_TERM_KITTY, VIZ_TERM_SIXEL } viz_term_mode;

typedef struct viz_term_info {
  viz_term_mode mode;
  viz_glyphs glyphs;
  viz_depth depth;
  bool tmux;
  int cols, rows;             /* the terminal's size in cells */
  int cell_w, cell_h;         /* pixels a cell (images) */
  int cursor_row, cursor_col; /* 1-based, 0: unknown */
} viz_term_info;

/* Looks at the environment and, when ask is true and both standard input and output are
   terminals, asks the terminal. */
void viz_term_detect(viz_term_info *t, bool ask);
/* "text (braille, 24-bit color)", "kitty graphics", ... */
const char *viz_term_describe(const viz_term_info *t, char *buf, size_t n);

/* Makes v a terminal view of `rows` rows (0: about two thirds of the screen), with the keys
   p and q when keys is true and standard input is a terminal. false and err when the
   terminal is too small. */
bool viz_term_open(viz_view *v, int rows, bool keys, char *err, size_t errlen);
/* Leaves the terminal (the last frame drawn first); the view stays, without it. */
void viz_term_close(viz_view *v);
/* Reads keys, and redraws when the data changed and the rate limit allows (now: whatever
   the rate limit). */
void viz_term_update(viz_view *v, bool now);
/* While v is paused, reads keys and redraws for up to seconds; returns v->paused. */
bool viz_term_wait(viz_view *v, double seconds);
/* Prints v inline, once, at the cursor, as the terminal can show it (rows 0: two thirds of
   the screen); false when out of memory. */
bool viz_term_show(viz_view *v, int rows);
/* "terminal 80x16 cells, text (braille, 24-bit color)" into buf. */
const char *viz_term_tostring(const viz_view *v, char *buf, size_t n);

#endif
