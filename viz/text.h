/*
** viz/text.h: text into the canvas, through SDL2_ttf and DejaVu Sans.
**
** Strings are rendered once to a coverage mask and cached (tick labels repeat from frame to
** frame), then blended into the canvas in any color. SDL's video need not be initialized:
** SDL_ttf only needs FreeType, so headless views draw the same text as windows. When no
** font can be opened, text is skipped (one warning on stderr) and everything else draws.
*/
#ifndef VIZ_TEXT_H
#define VIZ_TEXT_H

#include <stdbool.h>

#include "viz/canvas.h"

typedef enum viz_font { VIZ_SMALL, VIZ_NORMAL, VIZ_TITLE, VIZ_NFONTS } viz_font;

typedef enum viz_align { /* how (x, y) anchors the text's box */
                         VIZ_LEFT = 0,
                         VIZ_CENTER = 1,
                         VIZ_RIGHT = 2,
                         VIZ_TOP = 0,
                         VIZ_MIDDLE = 4,
                         VIZ_BOTTOM = 8
} viz_align;

/* Called for each string drawn, when set (tests read what a view wrote). */
typedef void (*viz_text_tracer)(void *ud, const char *s, int x, int y);
void viz_text_trace(viz_text_tracer f, void *ud);

/* Size of s in pixels (0 x line height when fonts are missing). */
int viz_text_width(viz_font f, const char *s);
int viz_text_height(viz_font f);
/* The width a line of text drawn upwards takes: its height, or one character in cell mode. */
int viz_text_up_width(viz_font f);
/* Draws s anchored at (x, y) by align (VIZ_LEFT | VIZ_TOP ...); returns its width. */
int viz_text(viz_canvas *c, viz_font f, int x, int y, int align, viz_color col, const char *s);
/* Draws s, shortened with "..." to at most maxw pixels. */
int viz_text_fit(viz_canvas *c, viz_font f, int x, int y, int align, viz_color col, const char *s,
                 int maxw);
/* Draws s rotated by 90 degrees counter-clockwise (reading upwards), centered at (x, y). */
void viz_text_up(viz_canvas *c, viz_font f, int x, int y, viz_color col, const char *s);

/* Cell mode, for the terminal's text mode (viz/cells.c): while a sink is set, text is not
   drawn into the canvas but handed to the sink, which writes it as characters; every font is
   then a monospace one of cw x ch pixels a character (the canvas's pixels per terminal cell),
   so that panels leave room for it as for any text. NULL turns it off. */
typedef void (*viz_text_sink)(void *ud, const char *s, int x, int y, viz_color col, viz_rect clip);
typedef void (*viz_picture_sink)(void *ud, viz_rect r);
void viz_text_cells(int cw, int ch, viz_text_sink sink, viz_picture_sink pictures, void *ud);
/* Marks r (within the clip rectangle) as a picture, a heatmap say, rather than lines: in cell
   mode its cells are half blocks, two solid colors each. Nothing otherwise. */
void viz_picture(const viz_canvas *c, viz_rect r);
/* A spacing of n pixels of the usual view, in the pixels of the canvas being drawn: n itself,
   or in cell mode about as many characters (horizontal, sx) or lines (vertical, sy) as n
   pixels are of text: 7 pixels a character, 14 a line. */
int viz_sx(int n);
int viz_sy(int n);
bool viz_text_in_cells(void);

/* Frees the fonts and the cache (TTF_Quit); viz works again after it, reopening them. */
void viz_text_shutdown(void);

#endif
