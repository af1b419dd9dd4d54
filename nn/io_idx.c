/*
** nn/io_idx.c: IDX files, the format of MNIST and Fashion-MNIST.
**
** Layout: magic 00 00 <type> <ndim>, ndim big-endian u32 sizes, then the elements, big-endian,
** C order. Files usually come gzip-compressed; zlib's gzread reads plain files too. The data
** is inflated straight into the tensor's buffer (then byte-swapped and widened in place), so
** loading Fashion-MNIST's 47 MB of training images costs one pass of inflate. Loading as
** another dtype (u8 pixels as f32 in [0, 1]) converts a chunk at a time while inflating, so
** the file's own copy of the data is never held whole beside the result.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "nn/io.h"
#include "nn/io_common.h"

/* Deflate cannot expand data by more than about 1032:1: a bound on what a gzip file of a
   given size can hold, checked before allocating what its header claims. */
static const int64_t MAX_INFLATE_RATIO = 1040;

static const struct {
  unsigned char code;
  nn_raw raw;
} idx_types[] = {{0x08, NN_RAW_U8},  {0x09, NN_RAW_I8},  {0x0B, NN_RAW_I16},
                 {0x0C, NN_RAW_I32}, {0x0D, NN_RAW_F32}, {0x0E, NN_RAW_F64}};

/* Up to n bytes, fewer only at the end of the data; -1 on a gzip error. */
static int64_t gz_read(gzFile gz, void *buf, int64_t n) {
  char *p = buf;
  int64_t got = 0;
  while (got < n) {
    int64_t chunk = n - got > (1 << 30) ? (1 << 30) : n - got;
    int r = gzread(gz, p + got, (unsigned)chunk);
    if (r < 0) return -1;
    if (r == 0) break;
    got += r;
  }
  return got;
}

static int gz_fail(gzFile gz, const char *path, const char *what, int64_t need, int64_t got) {
  int code;
  const char *why = gzerror(gz, &code);
  if (code != Z_OK && code != Z_BUF_ERROR)
    return nn_errc("%s: corrupt gzip data in the %s (%s)", path, what, why);
  return nn_errc("%s: file is truncated (%s: expected %lld bytes, found %lld)", path, what,
                 (long long)need, (long long)(got < 0 ? 0 : got));
}

/* Reads exactly n bytes or reports truncation/corruption. */
static int gz_get(gzFile gz, const char *path, void *buf, int64_t n, const char *what) {
  int64_t got = gz_read(gz, buf, n);
  return got == n ? 0 : gz_fail(gz, path, what, n, got);
}

static int parse_magic(const char *path, const unsigned char *m, nn_raw *raw) {
  if (m[0] != 0 || m[1] != 0)
    return nn_errc("%s: not an IDX file (magic bytes %02x %02x %02x %02x; expected 00 00 "
                   "<type> <ndim>)",
                   path, m[0], m[1], m[2], m[3]);
  for (size_t i = 0; i < sizeof idx_types / sizeof *idx_types; i++)
    if (idx_types[i].code == m[2]) {
      *raw = idx_types[i].raw;
      if (m[3] > NN_MAXDIM)
        return nn_errc("%s: IDX file has %d dimensions (at most %d are supported)", path, m[3],
                       NN_MAXDIM);
      return 0;
    }
  return nn_errc("%s: unknown IDX element type 0x%02x (expected 08, 09, 0B, 0C, 0D or 0E)", path,
                 m[2]);
}

static int read_shape(gzFile gz, const char *path, int ndim, int64_t *shape) {
  unsigned char b[4 * NN_MAXDIM];
  if (gz_get(gz, path, b, 4 * ndim, "IDX sizes") < 0) return -1;
  for (int d = 0; d < ndim; d++)
    shape[d] = (int64_t)b[4 * d] << 24 | b[4 * d + 1] << 16 | b[4 * d + 2] << 8 | b[4 * d + 3];
  return 0;
}

/* What the file can hold after its header: exactly its remaining size when plain, at most
   the inflate bound when compressed. */
static int check_size(gzFile gz, const char *path, int64_t file_size, int64_t header_bytes,
                      int ndim, const int64_t *shape, int64_t need) {
  if (gzdirect(gz) && need != file_size - header_bytes)
    return nn_errc("%s: IDX sizes %s need %lld bytes of data but the file holds %lld (%s)", path,
                   nn_dims_str(ndim, shape), (long long)need, (long long)(file_size - header_bytes),
                   need > file_size - header_bytes ? "truncated" : "trailing bytes");
  if (!gzdirect(gz) && need / MAX_INFLATE_RATIO > file_size)
    return nn_errc("%s: IDX sizes %s need %lld bytes, more than a gzip file of %lld bytes can "
                   "hold",
                   path, nn_dims_str(ndim, shape), (long long)need, (long long)file_size);
  return 0;
}

/* Inflates the data straight into t, then byte-swaps and widens it in place. */
static int read_native(gzFile gz, const char *path, nn_raw raw, nn_tensor *t) {
  int64_t n = nn_numel(t);
  if (gz_get(gz, path, nn_data(t), n * (int64_t)nn_raw_size(raw), "IDX data") < 0) return -1;
  nn_raw_convert(nn_data(t), n, raw, true);
  return 0;
}

/* Elements converted per step: a buffer of this many is all that exists besides t, so
   loading u8 pixels as f32 never holds the u8 copy of the whole file. */
enum { CONVERT_CHUNK = 1 << 16 };

/* Inflates the data a chunk at a time and stores each element, divided by divisor, into t
   (of any dtype): through double, which holds every IDX element type exactly. */
static int read_converted(gzFile gz, const char *path, nn_raw raw, nn_tensor *t, double divisor) {
  nn_dtype from = nn_raw_dtype(raw);
  size_t raw_size = nn_raw_size(raw), from_size = nn_dtype_size(from);
  size_t to_size = nn_dtype_size(t->dtype);
  int64_t n = nn_numel(t);
  char *buf = malloc(CONVERT_CHUNK * from_size), *out = nn_data(t);
  if (!buf) return nn_errc("%s: out of memory for a conversion buffer", path);
  for (int64_t i = 0; i < n; i += CONVERT_CHUNK) {
    int64_t m = n - i < CONVERT_CHUNK ? n - i : CONVERT_CHUNK;
    int64_t got = gz_read(gz, buf, m * (int64_t)raw_size);
    if (got != m * (int64_t)raw_size) {
      free(buf);
      return gz_fail(gz, path, "IDX data", n * (int64_t)raw_size,
                     got < 0 ? got : i * (int64_t)raw_size + got);
    }
    nn_raw_convert(buf, m, raw, true);
    if (from == NN_U8 && t->dtype == NN_F32) /* pixels as floats: the common case, typed */
      for (int64_t k = 0; k < m; k++)
        ((float *)out)[i + k] = (float)(((const uint8_t *)buf)[k] / divisor);
    else
      for (int64_t k = 0; k < m; k++)
        nn_store(out + (i + k) * to_size, t->dtype, nn_load(buf + k * from_size, from) / divisor);
  }
  free(buf);
  return 0;
}

/* Nothing may follow the data; reading one more byte also checks the gzip trailer (CRC,
   length). */
static int check_end(gzFile gz, const char *path, int ndim, const int64_t *shape) {
  char extra;
  int64_t more = gz_read(gz, &extra, 1);
  int code;
  gzerror(gz, &code);
  if (more == 0 && code == Z_OK) return 0;
  if (more > 0)
    return nn_errc("%s: trailing bytes after the IDX data (sizes %s)", path,
                   nn_dims_str(ndim, shape));
  if (code == Z_BUF_ERROR)
    return nn_errc("%s: file is truncated (the gzip stream ends before its trailer)", path);
  return gz_fail(gz, path, "end of the IDX data", 0, 0);
}

static nn_tensor *read_data(gzFile gz, const char *path, nn_raw raw, int ndim, const int64_t *shape,
                            const nn_dtype *dtype, double divisor) {
  nn_dtype to = dtype ? *dtype : nn_raw_dtype(raw);
  nn_tensor *t = nn_empty(to, ndim, shape);
  if (!t) {
    char why[256]; /* the message names the path; copied first, as nn_errc overwrites it */
    snprintf(why, sizeof why, "%s", nn_errmsg());
    nn_errc("%s: %s", path, why);
    return NULL;
  }
  bool native = to == nn_raw_dtype(raw) && divisor == 1;
  int rc = native ? read_native(gz, path, raw, t) : read_converted(gz, path, raw, t, divisor);
  if (rc < 0 || check_end(gz, path, ndim, shape) < 0) {
    nn_release(t);
    return NULL;
  }
  return t;
}

static nn_tensor *idx_load(const char *path, const nn_dtype *dtype, double divisor) {
  if (!(divisor != 0 && divisor - divisor == 0))
    return nn_err("%s: the divisor must be finite and nonzero, not %g", path, divisor);
  if (divisor != 1 && dtype && !nn_dtype_is_float(*dtype))
    return nn_err("%s: a divisor needs a float dtype (f32 or f64), not %s", path,
                  nn_dtype_name(*dtype));
  int64_t size;
  FILE *f = nn_reader_open(path, &size);
  if (!f) return NULL;
  int fd = dup(fileno(f));
  fclose(f);
  gzFile gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
  if (!gz) {
    if (fd >= 0) close(fd);
    return nn_err("%s: cannot open (out of memory)", path);
  }
  gzbuffer(gz, 1 << 20);
  unsigned char magic[4];
  int64_t shape[NN_MAXDIM], need;
  nn_raw raw = NN_RAW_U8;
  nn_tensor *t = NULL;
  if (gz_get(gz, path, magic, 4, "IDX header") == 0 && parse_magic(path, magic, &raw) == 0 &&
      read_shape(gz, path, magic[3], shape) == 0 &&
      (need = nn_raw_nbytes(path, raw, magic[3], shape)) >= 0 &&
      check_size(gz, path, size, 4 + 4 * (int64_t)magic[3], magic[3], shape, need) == 0)
    t = read_data(gz, path, raw, magic[3], shape, dtype, divisor);
  gzclose(gz);
  return t;
}

nn_tensor *nn_idx_load(const char *path) {
  return idx_load(path, NULL, 1);
}

nn_tensor *nn_idx_load_as(const char *path, nn_dtype dtype, double divisor) {
  return idx_load(path, &dtype, divisor);
}
