/*
** viz/graphics.h: images in the terminal: the kitty graphics protocol and sixel.
**
** kitty (https://sw.kovidgoyal.net/kitty/graphics-protocol/): the image is sent as 24-bit
** RGB (f=24), zlib-compressed when asked (o=z), base64-encoded, in chunks of at most 4096
** bytes of base64: ESC _ G <keys> ; <payload> ESC \, where the first chunk carries every key
** and the others only m, and m=1 marks every chunk but the last (m=0). It is placed at the
** cursor (a=T), the cursor left where it was (C=1), replacing the previous frame of the same
** image and placement ids (i, p), with no reply (q=2), scaled to cols x rows cells when given
** (c, r).
**
** sixel (VT330/340 programmer reference, DEC STD 070): ESC P q, the raster attributes
** "1;1;W;H, the color registers #n;2;r;g;b (percentages), then bands of six pixel rows: for
** each color of a band, #n and one character 63 + bits a column (bit k: row k of the band),
** runs of four or more as !count char, $ back to the band's start between colors, - after
** each band; ESC \ ends it. At most 256 registers: the image's own colors when it has no more,
** otherwise the 6x6x6 cube and 24 grays (registers 0-239 for xterm's 16-255).
**
** In tmux, each escape sequence goes through as passthrough: ESC P tmux; <sequence with every
** ESC doubled> ESC \ (tmux needs allow-passthrough on).
*/
#ifndef VIZ_GRAPHICS_H
#define VIZ_GRAPHICS_H

#include <stdbool.h>
#include <stdint.h>

#include "viz/cells.h"

typedef struct viz_kitty_opts {
  unsigned id, placement; /* 0: none */
  int cols, rows;         /* display size in cells; 0: the image's own */
  bool compress, tmux;
} viz_kitty_opts;

/* Appends w x h RGBA pixels (alpha ignored) as kitty graphics; false when out of memory. */
bool viz_kitty_encode(viz_buf *b, const uint8_t *rgba, int w, int h, const viz_kitty_opts *o);
/* Appends w x h RGBA pixels (alpha ignored) as sixel; false when out of memory. */
bool viz_sixel_encode(viz_buf *b, const uint8_t *rgba, int w, int h, bool tmux);
/* Appends seq (n bytes) wrapped for tmux's passthrough. */
void viz_tmux_wrap(viz_buf *b, const char *seq, size_t n);

#endif
