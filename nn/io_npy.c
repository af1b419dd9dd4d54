/*
** nn/io_npy.c: numpy's .npy files.
**
** Layout: "\x93NUMPY", a version byte pair, the header length (u16 in version 1.0, u32 in
** 2.0 and 3.0, little-endian), a header that is a Python dict literal such as
** {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }, then the raw data. The header
** is parsed here as the small literal grammar it is (strings, True/False, tuples of
** integers), never evaluated: a file cannot make the reader run anything.
*/
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "nn/io.h"
#include "nn/io_common.h"

static const char MAGIC[6] = "\x93NUMPY";
/* numpy refuses headers above 10,000 bytes unless told otherwise; allow more, not without end */
static const uint32_t MAX_HEADER = 1u << 20;
enum { ALIGN = 64, GROWTH_DIGITS = 21 }; /* numpy's ARRAY_ALIGN and GROWTH_AXIS_MAX_DIGITS */

/* The descr strings read (without their byte-order character) and written. */
static const struct {
  const char *code;
  nn_raw raw;
} npy_types[] = {
    {"b1", NN_RAW_BOOL}, {"u1", NN_RAW_U8},  {"i1", NN_RAW_I8},  {"i2", NN_RAW_I16},
    {"u2", NN_RAW_U16},  {"i4", NN_RAW_I32}, {"u4", NN_RAW_U32}, {"i8", NN_RAW_I64},
    {"f2", NN_RAW_F16},  {"f4", NN_RAW_F32}, {"f8", NN_RAW_F64},
};
static const char *const npy_written[NN_NDTYPES] = {
    [NN_F32] = "<f4", [NN_F64] = "<f8", [NN_I64] = "<i8", [NN_U8] = "|u1"};

/* ======== writing ======== */

/* Python's repr of the shape tuple: (), (3,), (3, 4). */
static int shape_repr(char *buf, size_t cap, const nn_tensor *t) {
  int n = snprintf(buf, cap, "(");
  for (int d = 0; d < t->ndim; d++)
    n += snprintf(buf + n, cap - n, d ? ", %lld" : "%lld", (long long)t->shape[d]);
  return n + snprintf(buf + n, cap - n, t->ndim == 1 ? ",)" : ")");
}

/* The header numpy.save writes: the dict with sorted keys, spare spaces so that the first
   size can grow in place, then spaces and a newline up to the 64-byte boundary (a whole
   extra 64 when already aligned, as numpy does). Returns its length. */
static int header_text(char *buf, size_t cap, const nn_tensor *t) {
  char shape[NN_MAXDIM * 24 + 4];
  shape_repr(shape, sizeof shape, t);
  int n = snprintf(buf, cap, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                   npy_written[t->dtype], shape);
  if (t->ndim > 0) {
    int digits = snprintf(NULL, 0, "%lld", (long long)t->shape[0]);
    n += snprintf(buf + n, cap - n, "%*s", GROWTH_DIGITS - digits, "");
  }
  int pad = ALIGN - (10 + n + 1) % ALIGN;
  n += snprintf(buf + n, cap - n, "%*s\n", pad, "");
  return n;
}

int nn_npy_save(const char *path, nn_tensor *t) {
  char prefix[10], header[1024];
  int hlen = header_text(header, sizeof header, t);
  memcpy(prefix, MAGIC, 6);
  prefix[6] = 1, prefix[7] = 0;
  prefix[8] = (char)(hlen & 0xff), prefix[9] = (char)(hlen >> 8);
  nn_writer w;
  if (nn_writer_open(&w, path) < 0 || nn_writer_put(&w, prefix, 10) < 0 ||
      nn_writer_put(&w, header, (size_t)hlen) < 0 || nn_writer_put_tensor(&w, t) < 0)
    return -1;
  return nn_writer_commit(&w);
}

/* ======== the header's dict literal ======== */

typedef struct {
  const char *start, *p, *end, *path;
} cursor;

typedef struct {
  char descr[32];
  bool fortran;
  int ndim;
  int64_t shape[NN_MAXDIM];
} header;

static int syntax(cursor *c, const char *what) {
  return nn_errc("%s: bad .npy header: %s at byte %ld", c->path, what, (long)(c->p - c->start));
}

static void skip_space(cursor *c) {
  while (c->p < c->end && isspace((unsigned char)*c->p)) c->p++;
}

/* Skips spaces, then consumes ch when it comes next. */
static bool eat(cursor *c, char ch) {
  skip_space(c);
  if (c->p < c->end && *c->p == ch) return c->p++, true;
  return false;
}

/* A quoted string without escapes (no key or descr needs one). */
static int parse_string(cursor *c, char *buf, size_t cap) {
  skip_space(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return syntax(c, "expected a string");
  char quote = *c->p++;
  const char *start = c->p;
  while (c->p < c->end && *c->p != quote && *c->p != '\\') c->p++;
  if (c->p >= c->end || *c->p != quote) return syntax(c, "unterminated or escaped string");
  size_t n = (size_t)(c->p++ - start);
  if (n >= cap) return syntax(c, "string too long");
  memcpy(buf, start, n);
  buf[n] = 0;
  return 0;
}

static bool eat_word(cursor *c, const char *word) {
  skip_space(c);
  size_t n = strlen(word);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return false;
  c->p += n;
  return true;
}

/* A non-negative integer, with Python 2's L suffix allowed (old numpy wrote "(3L, 4L)"). */
static int parse_size(cursor *c, int64_t *v) {
  skip_space(c);
  if (c->p >= c->end || !isdigit((unsigned char)*c->p)) return syntax(c, "expected a size");
  *v = 0;
  for (; c->p < c->end && isdigit((unsigned char)*c->p); c->p++) {
    if (*v > ((int64_t)1 << 58)) return syntax(c, "size too large");
    *v = *v * 10 + (*c->p - '0');
  }
  if (c->p < c->end && (*c->p == 'L' || *c->p == 'l')) c->p++;
  return 0;
}

/* (), (3,), (3, 4), (3, 4,); also a bare parenthesized size (3). */
static int parse_shape(cursor *c, header *h) {
  if (!eat(c, '(')) return syntax(c, "shape is not a tuple");
  h->ndim = 0;
  while (!eat(c, ')')) {
    if (h->ndim == NN_MAXDIM)
      return nn_errc("%s: shape has more than %d dimensions", c->path, NN_MAXDIM);
    if (parse_size(c, &h->shape[h->ndim++]) < 0) return -1;
    if (!eat(c, ',') && (skip_space(c), c->p >= c->end || *c->p != ')'))
      return syntax(c, "expected ',' or ')' in the shape");
  }
  return 0;
}

static int parse_value(cursor *c, const char *key, header *h) {
  if (strcmp(key, "descr") == 0) {
    skip_space(c);
    if (c->p < c->end && (*c->p == '[' || *c->p == '{'))
      return nn_errc("%s: structured arrays are not supported", c->path);
    return parse_string(c, h->descr, sizeof h->descr);
  }
  if (strcmp(key, "fortran_order") == 0) {
    if (eat_word(c, "True")) return h->fortran = true, 0;
    if (eat_word(c, "False")) return h->fortran = false, 0;
    return syntax(c, "fortran_order is not True or False");
  }
  if (strcmp(key, "shape") == 0) return parse_shape(c, h);
  return nn_errc("%s: bad .npy header: unexpected key '%.40s'", c->path, key);
}

/* {key: value, ...} with exactly the keys descr, fortran_order and shape, in any order. */
static int parse_header(const char *path, const char *text, size_t n, header *h) {
  cursor c = {text, text, text + n, path};
  const char *keys[3] = {"descr", "fortran_order", "shape"};
  bool seen[3] = {false, false, false};
  if (!eat(&c, '{')) return syntax(&c, "expected '{'");
  while (!eat(&c, '}')) {
    char key[32];
    if (parse_string(&c, key, sizeof key) < 0) return -1;
    if (!eat(&c, ':')) return syntax(&c, "expected ':'");
    for (int k = 0; k < 3; k++) {
      if (strcmp(key, keys[k]) != 0) continue;
      if (seen[k]) return nn_errc("%s: bad .npy header: key '%s' appears twice", path, key);
      seen[k] = true;
    }
    if (parse_value(&c, key, h) < 0) return -1;
    if (!eat(&c, ',') && (skip_space(&c), c.p >= c.end || *c.p != '}'))
      return syntax(&c, "expected ',' or '}'");
  }
  skip_space(&c);
  if (c.p != c.end) return syntax(&c, "text after the dict");
  for (int k = 0; k < 3; k++)
    if (!seen[k]) return nn_errc("%s: bad .npy header: key '%s' is missing", path, keys[k]);
  return 0;
}

/* '<f4' and friends: a byte-order character ('<', '>', '|', '=' or none) and a type code. */
static int parse_descr(const char *path, const char *descr, nn_raw *raw, bool *big_endian) {
  const char *code = descr;
  *big_endian = *code == '>';
  if (*code && strchr("<>|=", *code)) code++;
  if (*code == 'O')
    return nn_errc("%s: object arrays are refused (they need pickle): descr '%s'", path, descr);
  for (size_t i = 0; i < sizeof npy_types / sizeof *npy_types; i++)
    if (strcmp(code, npy_types[i].code) == 0) return *raw = npy_types[i].raw, 0;
  return nn_errc("%s: dtype '%.30s' is not supported (relua reads bool, int8-64, uint8-32, "
                 "float16-64)",
                 path, descr);
}

/* ======== reading ======== */

/* Magic, version and header length; returns the header's offset in the file (10 or 12). */
static int read_prefix(FILE *f, const char *path, int64_t size, uint32_t *hlen) {
  unsigned char pre[12];
  if (size < 10)
    return nn_errc("%s: file is %lld bytes, too short for a .npy file", path, (long long)size);
  if (nn_reader_get(f, path, pre, 8, "magic") < 0) return -1;
  if (memcmp(pre, MAGIC, 6) != 0)
    return nn_errc("%s: not a .npy file (bad magic bytes; expected \\x93NUMPY)", path);
  int major = pre[6], lenbytes = major == 1 ? 2 : 4;
  if (major < 1 || major > 3 || pre[7] != 0)
    return nn_errc("%s: unsupported .npy format version %d.%d", path, major, pre[7]);
  if (nn_reader_get(f, path, pre + 8, (size_t)lenbytes, "header length") < 0) return -1;
  *hlen = 0;
  for (int k = lenbytes - 1; k >= 0; k--) *hlen = *hlen << 8 | pre[8 + k];
  int64_t at = 8 + lenbytes;
  if (*hlen > size - at)
    return nn_errc("%s: header length %lu exceeds the file size %lld", path, (unsigned long)*hlen,
                   (long long)size);
  if (*hlen > MAX_HEADER)
    return nn_errc("%s: header length %lu exceeds the limit of %lu bytes", path,
                   (unsigned long)*hlen, (unsigned long)MAX_HEADER);
  return (int)at;
}

static int read_header(FILE *f, const char *path, uint32_t hlen, header *h) {
  char *text = malloc(hlen + 1);
  if (!text) return nn_errc("%s: out of memory", path);
  int r = nn_reader_get(f, path, text, hlen, "header");
  if (r == 0 && memchr(text, 0, hlen)) r = nn_errc("%s: bad .npy header: it holds a NUL", path);
  if (r == 0) r = parse_header(path, text, hlen, h);
  free(text);
  return r;
}

/* Fortran order is C order of the reversed shape, transposed: read that, then copy. */
static nn_tensor *read_fortran(FILE *f, const char *path, nn_raw raw, bool big_endian,
                               const header *h) {
  int64_t rev[NN_MAXDIM];
  int perm[NN_MAXDIM];
  for (int d = 0; d < h->ndim; d++) rev[d] = h->shape[h->ndim - 1 - d], perm[d] = h->ndim - 1 - d;
  nn_tensor *t = nn_raw_read(f, path, raw, big_endian, h->ndim, rev);
  nn_tensor *v = t ? nn_permute(t, perm) : NULL;
  nn_tensor *c = v ? nn_contiguous(v) : NULL;
  nn_release(v);
  nn_release(t);
  return c;
}

nn_tensor *nn_npy_load(const char *path) {
  int64_t size;
  FILE *f = nn_reader_open(path, &size);
  if (!f) return NULL;
  uint32_t hlen = 0;
  header h;
  nn_raw raw = NN_RAW_U8;
  bool big_endian;
  nn_tensor *t = NULL;
  int at = read_prefix(f, path, size, &hlen);
  if (at >= 0 && read_header(f, path, hlen, &h) == 0 &&
      parse_descr(path, h.descr, &raw, &big_endian) == 0) {
    int64_t need = nn_raw_nbytes(path, raw, h.ndim, h.shape), have = size - at - hlen;
    if (need >= 0 && need != have)
      nn_err("%s: data is %lld bytes but shape %s of '%s' needs %lld (%s)", path, (long long)have,
             nn_dims_str(h.ndim, h.shape), h.descr, (long long)need,
             have < need ? "truncated" : "trailing bytes");
    else if (need >= 0)
      t = h.fortran && h.ndim > 1 ? read_fortran(f, path, raw, big_endian, &h)
                                  : nn_raw_read(f, path, raw, big_endian, h.ndim, h.shape);
  }
  fclose(f);
  return t;
}
