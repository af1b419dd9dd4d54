/*
** viz/png.c: writing and reading PNG with libpng's simplified API (no setjmp needed).
**
** Saving uses libpng's fast compression: a view is mostly flat colors, which compress well
** anyway, and the s key should not stall a training loop.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <png.h>
#include <sys/stat.h>

#include "viz/png.h"

/* A temporary file next to path, opened for writing; NULL with errno set on failure. */
static FILE *open_temp(const char *path, char *tmp, size_t n) {
  if ((size_t)snprintf(tmp, n, "%s.XXXXXX", path) >= n) {
    errno = ENAMETOOLONG;
    return NULL;
  }
  int fd = mkstemp(tmp);
  if (fd < 0) return NULL;
  mode_t mask = umask(0); /* mkstemp makes 0600; the PNG gets the usual permissions */
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    close(fd);
    unlink(tmp);
  }
  return f;
}

static int encode(FILE *f, const uint8_t *rgba, int w, int h, char *err, size_t errlen) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = (png_uint_32)w;
  img.height = (png_uint_32)h;
  img.format = PNG_FORMAT_RGBA;
  img.flags = PNG_IMAGE_FLAG_FAST;
  if (png_image_write_to_stdio(&img, f, 0, rgba, 0, NULL)) return 0;
  snprintf(err, errlen, "%s", img.message);
  png_image_free(&img);
  return -1;
}

int viz_png_write(const char *path, const uint8_t *rgba, int w, int h, char *err, size_t errlen) {
  char tmp[4096];
  FILE *f = open_temp(path, tmp, sizeof tmp);
  if (!f) {
    snprintf(err, errlen, "cannot write %s (%s)", path, strerror(errno));
    return -1;
  }
  int rc = encode(f, rgba, w, h, err, errlen);
  if (fclose(f) != 0 && rc == 0) {
    snprintf(err, errlen, "cannot write %s (%s)", path, strerror(errno));
    rc = -1;
  }
  if (rc == 0 && rename(tmp, path) != 0) {
    snprintf(err, errlen, "cannot write %s (%s)", path, strerror(errno));
    rc = -1;
  }
  if (rc != 0) unlink(tmp);
  return rc;
}

uint8_t *viz_png_read(const char *path, int *w, int *h, char *err, size_t errlen) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&img, path)) {
    snprintf(err, errlen, "cannot read %s (%s)", path, img.message);
    return NULL;
  }
  img.format = PNG_FORMAT_RGBA;
  uint8_t *px = malloc(PNG_IMAGE_SIZE(img));
  if (!px) {
    png_image_free(&img);
    snprintf(err, errlen, "cannot read %s (out of memory)", path);
    return NULL;
  }
  if (!png_image_finish_read(&img, NULL, px, 0, NULL)) {
    snprintf(err, errlen, "cannot read %s (%s)", path, img.message);
    free(px);
    png_image_free(&img);
    return NULL;
  }
  *w = (int)img.width;
  *h = (int)img.height;
  return px;
}
