/*
** viz/cells.h: the terminal's text mode: a view drawn as character cells.
**
** The view is drawn once more into its canvas, at 2 x 4 pixels a cell and with text in cell
** mode (viz/text.h: strings become characters, not pixels), then each cell's 2 x 4 pixels
** become one character: a braille pattern whose dots are the pixels of one color on the
** other (two colors a cell, found by splitting its pixels in two groups), or a half block
** (the top half in one color, the bottom in the other). The strings are then written over
** the cells. Colors go out as 24-bit, as the 256-color palette, or not at all (plain: the
** dots are the dark pixels, dithered).
**
** viz_buf is the growing byte buffer every terminal encoder writes into.
*/
#ifndef VIZ_CELLS_H
#define VIZ_CELLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "viz/canvas.h"

typedef struct viz_buf {
  char *p;
  size_t n, cap;
  bool failed; /* out of memory: what was added since is lost */
} viz_buf;

void viz_buf_add(viz_buf *b, const void *data, size_t n);
void viz_buf_str(viz_buf *b, const char *s);
void viz_buf_printf(viz_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void viz_buf_free(viz_buf *b);

enum { VIZ_CELL_W = 2, VIZ_CELL_H = 4 }; /* canvas pixels a cell */

typedef enum viz_glyphs { VIZ_BRAILLE, VIZ_BLOCKS } viz_glyphs;
typedef enum viz_depth { VIZ_PLAIN, VIZ_256, VIZ_24BIT } viz_depth;

typedef struct viz_cell {
  uint32_t ch; /* a code point */
  viz_color fg, bg;
} viz_cell;

typedef struct viz_cells {
  int cols, rows;
  viz_cell *cell; /* rows * cols, row-major */
} viz_cells;

struct viz_view;

/* Draws v as cols x rows cells into out (resized as needed). The view's canvas is drawn at
   2 cols x 4 rows pixels for it and marked for drawing again at its own size. false when out
   of memory. */
bool viz_cells_render(struct viz_view *v, viz_cells *out, int cols, int rows, viz_glyphs glyphs,
                      viz_depth depth);
void viz_cells_free(viz_cells *c);

/* Appends what draws the cells of now at terminal rows top.. (1-based) from column 1: every
   cell, or with before (same size) only those that differ from it. Attributes are reset at
   the end. */
void viz_cells_emit(viz_buf *b, const viz_cells *now, const viz_cells *before, int top,
                    viz_depth depth);
/* Appends the cells as lines (each ended by "\r\n" when crlf, "\n" otherwise), for printing
   inline. */
void viz_cells_lines(viz_buf *b, const viz_cells *now, viz_depth depth, bool crlf);

/* The 256-color palette index nearest to col (the 6x6x6 cube or the grays). */
int viz_color256(viz_color col);

#endif
