/*
** viz/color.h: the colors of the live view, in one place.
*/
#ifndef VIZ_COLOR_H
#define VIZ_COLOR_H

#include <stdint.h>

#include "viz/canvas.h"

/* the view's neutral tones */
#define VIZ_BACKGROUND 0xf4f5f7u
#define VIZ_PANEL      0xffffffu
#define VIZ_FRAME      0xc9ccd1u
#define VIZ_GRID       0xeceef1u
#define VIZ_INK        0x222326u /* titles and values */
#define VIZ_MUTED      0x6b6f76u /* tick labels and notes */
#define VIZ_MISSING    0xdcdde0u /* no data in a heatmap cell */

enum { VIZ_NPALETTE = 10 };

/* The i-th color of the series/class palette (wraps around). */
viz_color viz_palette(int i);
/* A pleasant, distinct-looking color for a region id (a hash of it: stable across frames). */
viz_color viz_id_color(int64_t id);
/* The sequential color map of the heatmaps, t in [0, 1] (clamped). */
viz_color viz_colormap(double t);

#endif
