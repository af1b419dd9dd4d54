/*
** nn/io_idx.c: IDX files, the format of MNIST and Fashion-MNIST.
**
** Layout: magic 00 00 <type> <ndim>, ndim big-endian u32 sizes, then the elements, big-endian,
** C order. Files usually come gzip-compressed; zlib's gzread reads plain files too. The data
** is inflated straight into the tensor's buffer (then byte-swapped and widened in place), so
** loading Fashion-MNIST's 47 MB of training images costs one pass of inflate.
*/
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

static nn_tensor *read_data(gzFile gz, const char *path, nn_raw raw, int ndim,
                            const int64_t *shape) {
  nn_tensor *t = nn_raw_empty(path, raw, ndim, shape);
  if (!t) return NULL;
  int64_t n = nn_numel(t), need = n * (int64_t)nn_raw_size(raw);
  char extra;
  if (gz_get(gz, path, nn_data(t), need, "IDX data") < 0) {
    nn_release(t);
    return NULL;
  }
  /* One more byte must be the end; reading it also checks the gzip trailer (CRC, length). */
  int64_t more = gz_read(gz, &extra, 1);
  int code;
  gzerror(gz, &code);
  if (more != 0 || code != Z_OK) {
    if (more > 0)
      nn_errc("%s: trailing bytes after the IDX data (sizes %s)", path, nn_dims_str(ndim, shape));
    else if (code == Z_BUF_ERROR)
      nn_errc("%s: file is truncated (the gzip stream ends before its trailer)", path);
    else
      gz_fail(gz, path, "end of the IDX data", 0, 0);
    nn_release(t);
    return NULL;
  }
  nn_raw_convert(nn_data(t), n, raw, true);
  return t;
}

nn_tensor *nn_idx_load(const char *path) {
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
    t = read_data(gz, path, raw, magic[3], shape);
  gzclose(gz);
  return t;
}
