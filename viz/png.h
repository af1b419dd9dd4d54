/*
** viz/png.h: PNG files of RGBA pixels, through libpng.
*/
#ifndef VIZ_PNG_H
#define VIZ_PNG_H

#include <stddef.h>
#include <stdint.h>

/* Writes w x h RGBA pixels to path atomically: a temporary file in the same directory,
   renamed over path once complete, so a reader never sees half a file. Returns 0, or -1
   with a message in err. */
int viz_png_write(const char *path, const uint8_t *rgba, int w, int h, char *err, size_t errlen);

/* Reads a PNG as RGBA (any PNG: converted). Returns the pixels (free them) and sets w and h,
   or NULL with a message in err. */
uint8_t *viz_png_read(const char *path, int *w, int *h, char *err, size_t errlen);

#endif
