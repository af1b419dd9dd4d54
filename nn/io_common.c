/*
** nn/io_common.c: atomic writes, checked reads and in-place element conversion, shared by the
** safetensors, .npy and IDX code.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn/io_common.h"

/* Every format here stores little-endian data (IDX's big-endian is swapped explicitly), and
   the readers copy file bytes straight into tensors. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "relua's file formats assume a "
                                                          "little-endian host");

/* ---- writing ---- */

/* The directory part of path ("." when none), malloc'ed. */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
}

/* Where path leads through its symbolic links (malloc'ed), or NULL with a message. */
static char *resolve_links(const char *path) {
  char *p = strdup(path);
  for (int hops = 0; p; hops++) {
    struct stat st;
    if (lstat(p, &st) < 0 || !S_ISLNK(st.st_mode)) return p; /* absent, or not a link */
    char link[4096];
    ssize_t n = hops < 40 ? readlink(p, link, sizeof link - 1) : -1;
    if (n < 0) {
      free(p);
      return nn_err("%s: too many symbolic links, or one that cannot be read", path);
    }
    link[n] = 0;
    char *dir = link[0] == '/' ? strdup("") : dir_of(p), *next = NULL;
    if (dir && (next = malloc(strlen(dir) + (size_t)n + 2)))
      sprintf(next, "%s%s%s", dir, dir[0] ? "/" : "", link);
    free(dir);
    free(p);
    p = next;
  }
  return nn_err("%s: out of memory", path);
}

/* Removes "<target>.tmp.<pid>" files whose process is gone. */
static void remove_stale_temporaries(const char *target) {
  char *dir = dir_of(target);
  const char *slash = strrchr(target, '/'), *base = slash ? slash + 1 : target;
  size_t nbase = strlen(base);
  DIR *d = dir ? opendir(dir) : NULL;
  for (struct dirent *e; d && (e = readdir(d));) {
    const char *name = e->d_name, *digits = name + nbase + 5;
    if (strncmp(name, base, nbase) != 0 || strncmp(name + nbase, ".tmp.", 5) != 0 || !*digits ||
        strspn(digits, "0123456789") != strlen(digits))
      continue;
    long pid = strtol(digits, NULL, 10);
    if (pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    char *stale = malloc(strlen(dir) + strlen(name) + 2);
    if (stale) {
      sprintf(stale, "%s/%s", dir, name);
      unlink(stale);
      free(stale);
    }
  }
  if (d) closedir(d);
  free(dir);
}

int nn_writer_open(nn_writer *w, const char *path) {
  w->path = path;
  w->fd = -1;
  w->tmp = NULL;
  if (!(w->target = resolve_links(path))) return -1;
  struct stat st;
  if (stat(w->target, &st) == 0 && !S_ISREG(st.st_mode)) {
    nn_writer_abort(w);
    return nn_errc("%s: not a regular file (%s); nothing was written", path,
                   S_ISDIR(st.st_mode) ? "a directory" : "a device, pipe or socket");
  }
  remove_stale_temporaries(w->target);
  size_t len = strlen(w->target) + 32;
  w->tmp = malloc(len);
  if (!w->tmp) {
    nn_writer_abort(w);
    return nn_errc("%s: out of memory", path);
  }
  snprintf(w->tmp, len, "%s.tmp.%ld", w->target, (long)getpid());
  w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (w->fd < 0) {
    int e = errno;
    nn_errc("%s: cannot create %s (%s)", path, w->tmp, strerror(e));
    free(w->tmp);
    w->tmp = NULL;
    nn_writer_abort(w);
    return -1;
  }
  return 0;
}

void nn_writer_abort(nn_writer *w) {
  if (w->fd >= 0) close(w->fd);
  if (w->tmp) unlink(w->tmp);
  free(w->tmp);
  free(w->target);
  w->tmp = w->target = NULL;
  w->fd = -1;
}

/* The last message, from a core function that knows nothing of files, with "<path>: " in
   front; returns -1. */
static int in_file(const char *path) {
  char why[256];
  snprintf(why, sizeof why, "%s", nn_errmsg());
  return nn_errc("%s: %s", path, why);
}

/* Records the message first, then cleans up (cleanup may change errno). */
static int write_failed(nn_writer *w, const char *doing, int e) {
  nn_errc("%s: %s failed (%s)", w->path, doing, strerror(e));
  nn_writer_abort(w);
  return -1;
}

int nn_writer_put(nn_writer *w, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t k = write(w->fd, c, n > (1u << 30) ? (1u << 30) : n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return write_failed(w, "write", k < 0 ? errno : EIO);
    c += k;
    n -= (size_t)k;
  }
  return 0;
}

int nn_writer_put_tensor(nn_writer *w, nn_tensor *t) {
  nn_tensor *c = nn_contiguous(t);
  if (!c) {
    in_file(w->path);
    nn_writer_abort(w);
    return -1;
  }
  int r = nn_writer_put(w, nn_data(c), (size_t)nn_numel(c) * nn_dtype_size(c->dtype));
  nn_release(c);
  return r;
}

/* The rename is durable once the directory entry is: fsync the directory, best effort. */
static void sync_directory(const char *path) {
  char *dir = dir_of(path);
  if (!dir) return;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  free(dir);
}

int nn_writer_commit(nn_writer *w) {
  if (fsync(w->fd) < 0) return write_failed(w, "fsync", errno);
  int fd = w->fd;
  w->fd = -1;
  if (close(fd) < 0) return write_failed(w, "close", errno);
  if (rename(w->tmp, w->target) < 0) return write_failed(w, "rename", errno);
  sync_directory(w->target);
  free(w->tmp);
  free(w->target);
  w->tmp = w->target = NULL;
  return 0;
}

/* ---- reading ---- */

FILE *nn_reader_open(const char *path, int64_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return nn_err("%s: cannot open (%s)", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return nn_err("%s: not a regular file", path);
  }
  *size = st.st_size;
  return f;
}

int nn_reader_get(FILE *f, const char *path, void *p, size_t n, const char *what) {
  size_t got = fread(p, 1, n, f);
  if (got == n) return 0;
  if (ferror(f)) return nn_errc("%s: read error in %s (%s)", path, what, strerror(errno));
  return nn_errc("%s: file is truncated (%s: expected %zu bytes, found %zu)", path, what, n, got);
}

/* ---- element types ---- */

static const struct {
  unsigned char size;
  nn_dtype dtype;
} raws[NN_NRAW] = {
    [NN_RAW_BOOL] = {1, NN_U8},  [NN_RAW_U8] = {1, NN_U8},   [NN_RAW_I8] = {1, NN_I64},
    [NN_RAW_I16] = {2, NN_I64},  [NN_RAW_U16] = {2, NN_I64}, [NN_RAW_I32] = {4, NN_I64},
    [NN_RAW_U32] = {4, NN_I64},  [NN_RAW_I64] = {8, NN_I64}, [NN_RAW_F16] = {2, NN_F32},
    [NN_RAW_BF16] = {2, NN_F32}, [NN_RAW_F32] = {4, NN_F32}, [NN_RAW_F64] = {8, NN_F64},
};

size_t nn_raw_size(nn_raw r) {
  return raws[r].size;
}
nn_dtype nn_raw_dtype(nn_raw r) {
  return raws[r].dtype;
}

/* Files larger than this are surely not tensors we can hold; it also keeps products below
   int64 overflow. */
static const int64_t MAX_FILE_BYTES = (int64_t)1 << 50;

int64_t nn_raw_nbytes(const char *path, nn_raw r, int ndim, const int64_t *shape) {
  /* Even an empty tensor's other sizes must multiply within the limit: its strides are
     products of them (a file's {0, 2^40, 2^40} would overflow them). */
  int64_t n = (int64_t)nn_raw_size(r);
  bool empty = false;
  for (int d = 0; d < ndim; d++) {
    if (shape[d] < 0) return nn_errc("%s: negative size %lld in shape", path, (long long)shape[d]);
    if (shape[d] == 0) {
      empty = true;
      continue;
    }
    if (n > MAX_FILE_BYTES / shape[d])
      return nn_errc("%s: shape %s is too large", path, nn_dims_str(ndim, shape));
    n *= shape[d];
  }
  return empty ? 0 : n;
}

/* IEEE half: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
static float half_to_float(uint16_t h) {
  int exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  float v = exp == 0    ? ldexpf((float)man, -24) /* zero and subnormals */
            : exp == 31 ? (man ? NAN : INFINITY)
                        : ldexpf((float)(man | 0x400), exp - 25);
  return h & 0x8000 ? -v : v;
}

/* bfloat16 is the top half of a float32. */
static float bf16_to_float(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

static void byteswap(char *b, int64_t n, size_t size) {
  for (int64_t i = 0; i < n; i++) {
    char *e = b + i * (int64_t)size;
    for (size_t lo = 0, hi = size - 1; lo < hi; lo++, hi--) {
      char c = e[lo];
      e[lo] = e[hi];
      e[hi] = c;
    }
  }
}

/* Element i goes from TS at b + i*sizeof(TS) to TD at b + i*sizeof(TD). The destination is
   at least as wide, so walking from the end never overwrites a source element not yet read. */
#define WIDEN(TS, TD, CONV)                                                                        \
  for (int64_t i = n; i-- > 0;) {                                                                  \
    TS v;                                                                                          \
    memcpy(&v, b + i * (int64_t)sizeof(TS), sizeof v);                                             \
    TD out = (TD)(CONV);                                                                           \
    memcpy(b + i * (int64_t)sizeof(TD), &out, sizeof out);                                         \
  }                                                                                                \
  break;

void nn_raw_convert(void *buf, int64_t n, nn_raw r, bool big_endian) {
  char *b = buf;
  if (big_endian && nn_raw_size(r) > 1) byteswap(b, n, nn_raw_size(r));
  switch (r) {
  case NN_RAW_BOOL: WIDEN(uint8_t, uint8_t, v != 0)
  case NN_RAW_I8: WIDEN(int8_t, int64_t, v)
  case NN_RAW_I16: WIDEN(int16_t, int64_t, v)
  case NN_RAW_U16: WIDEN(uint16_t, int64_t, v)
  case NN_RAW_I32: WIDEN(int32_t, int64_t, v)
  case NN_RAW_U32: WIDEN(uint32_t, int64_t, v)
  case NN_RAW_F16: WIDEN(uint16_t, float, half_to_float(v))
  case NN_RAW_BF16: WIDEN(uint16_t, float, bf16_to_float(v))
  default: break; /* U8, I64, F32, F64 are stored as relua holds them */
  }
}

nn_tensor *nn_raw_empty(const char *path, nn_raw r, int ndim, const int64_t *shape) {
  nn_tensor *t = nn_empty(nn_raw_dtype(r), ndim, shape);
  if (!t) in_file(path);
  return t;
}

nn_tensor *nn_raw_read(FILE *f, const char *path, nn_raw r, bool big_endian, int ndim,
                       const int64_t *shape) {
  nn_tensor *t = nn_raw_empty(path, r, ndim, shape);
  if (!t) return NULL;
  int64_t n = nn_numel(t);
  if (nn_reader_get(f, path, nn_data(t), (size_t)n * nn_raw_size(r), "tensor data") < 0) {
    nn_release(t);
    return NULL;
  }
  nn_raw_convert(nn_data(t), n, r, big_endian);
  return t;
}
