/* tests/c/test_io.c: safetensors, .npy and IDX files: round trips, foreign files, bad files. */
#include <dirent.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "nn/io.h"
#include "test.h"

/* ======== a scratch directory, removed at exit ======== */

static char scratch[64];

static int remove_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(p);
}

__attribute__((destructor)) static void remove_scratch(void) {
  if (scratch[0]) nftw(scratch, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* dir/name, in a ring of buffers (valid for a few calls) */
static const char *tmp(const char *name) {
  static char ring[8][256];
  static int next;
  if (!scratch[0]) {
    strcpy(scratch, "/tmp/relua_test_io.XXXXXX");
    if (!mkdtemp(scratch)) perror("mkdtemp");
  }
  char *buf = ring[next++ % 8];
  snprintf(buf, sizeof ring[0], "%s/%s", scratch, name);
  return buf;
}

static void write_bytes(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return perror(path);
  fwrite(p, 1, n, f);
  fclose(f);
}

static size_t read_bytes(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

/* True when the last error names path and says `what`; prints the message otherwise. */
static bool failed_with(const char *path, const char *what) {
  const char *m = nn_errmsg();
  bool ok = strncmp(m, path, strlen(path)) == 0 && strstr(m, what);
  if (!ok) fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", m, what);
  return ok;
}

/* ======== tensors with known values ======== */

/* value i of a test tensor: distinct, exact in every dtype */
static double pattern(nn_dtype dt, int64_t i) {
  switch (dt) {
  case NN_F32: return (double)i * 0.5 - 1;
  case NN_F64: return (double)i / 8 + 0.25;
  case NN_I64: return (double)(i * ((int64_t)1 << 40) - 3);
  default: return (double)((250 + i) % 256);
  }
}

static nn_tensor *patterned(nn_dtype dt, int ndim, const int64_t *shape) {
  nn_tensor *t = nn_empty(dt, ndim, shape);
  for (int64_t i = 0; t && i < nn_numel(t); i++)
    nn_store(nn_data(t) + i * nn_dtype_size(dt), dt, pattern(dt, i));
  return t;
}

static bool same(const nn_tensor *a, const nn_tensor *b) {
  if (!a || !b || a->dtype != b->dtype || !nn_same_shape(a, b)) return false;
  for (int64_t i = 0; i < nn_numel(a); i++)
    if (test_get(a, i) != test_get(b, i)) return false;
  return true;
}

static bool values_are(const nn_tensor *t, nn_dtype dt, int ndim, const int64_t *shape,
                       const double *v) {
  if (!t || t->dtype != dt || t->ndim != ndim ||
      (ndim && memcmp(t->shape, shape, ndim * sizeof *shape) != 0)) {
    fprintf(stderr, "  got %s %s\n", t ? nn_dtype_name(t->dtype) : "NULL",
            t ? nn_shape_str(t) : "");
    return false;
  }
  for (int64_t i = 0; i < nn_numel(t); i++)
    if (test_get(t, i) != v[i]) {
      fprintf(stderr, "  element %lld: %.17g, expected %.17g\n", (long long)i, test_get(t, i),
              v[i]);
      return false;
    }
  return true;
}

/* ======== safetensors ======== */

/* The tensors the round-trip tests save: every dtype, a scalar, an empty and a strided one. */
typedef struct {
  nn_tensor *t[6];
  const char *names[6];
} st_set;

static void st_set_make(st_set *s) {
  nn_tensor *base = patterned(NN_F32, 2, (int64_t[]){2, 3});
  s->t[0] = patterned(NN_F32, 2, (int64_t[]){2, 3});
  s->t[1] = patterned(NN_F64, 0, NULL);
  s->t[2] = patterned(NN_I64, 2, (int64_t[]){0, 4});
  s->t[3] = patterned(NN_U8, 1, (int64_t[]){5});
  s->t[4] = nn_transpose(base, 0, 1); /* {3,2}, not contiguous */
  s->t[5] = patterned(NN_I64, 3, (int64_t[]){2, 1, 3});
  nn_release(base);
  const char *names[6] = {"layer.0.weight", "scale", "empty", "mask", "w_t", "idx"};
  memcpy(s->names, names, sizeof names);
}

static void st_set_free(st_set *s) {
  for (int i = 0; i < 6; i++) nn_release(s->t[i]);
}

static int find(const nn_st_file *f, const char *name) {
  for (int i = 0; i < f->n; i++)
    if (strcmp(f->names[i], name) == 0) return i;
  return -1;
}

TEST(io_st_roundtrip) {
  st_set s;
  st_set_make(&s);
  const char *path = tmp("round.safetensors");
  const char *keys[] = {"format", "note"}, *values[] = {"pt", "h\xc3\xa9llo \"quoted\"\n"};
  REQUIRE(nn_safetensors_save(path, 6, s.names, s.t, 2, keys, values) == 0);
  nn_st_file f;
  REQUIRE(nn_safetensors_load(path, &f) == 0);
  CHECK(f.n == 6 && f.nmeta == 2);
  for (int i = 0; i < 6; i++) {
    int k = find(&f, s.names[i]);
    CHECK(k >= 0 && same(f.tensors[k], s.t[i]));
    CHECK(k < 0 || nn_is_contiguous(f.tensors[k]));
  }
  CHECK(f.nmeta == 2 && strcmp(f.meta_keys[0], "format") == 0 &&
        strcmp(f.meta_values[1], values[1]) == 0);
  /* data order: I64 first (by name), then F64, F32, U8 */
  const char *order[] = {"empty", "idx", "scale", "layer.0.weight", "w_t", "mask"};
  for (int i = 0; i < f.n && i < 6; i++) CHECK(strcmp(f.names[i], order[i]) == 0);
  nn_st_file_free(&f);
  nn_st_file_free(&f); /* twice is fine */
  CHECK(f.n == 0 && f.names == NULL);

  /* no tensors and no metadata is a valid file: "{}" padded to 8 */
  const char *empty = tmp("empty.safetensors");
  REQUIRE(nn_safetensors_save(empty, 0, NULL, NULL, 0, NULL, NULL) == 0);
  char buf[64];
  CHECK(read_bytes(empty, buf, sizeof buf) == 16 && buf[0] == 8 &&
        memcmp(buf + 8, "{}   ", 5) == 0);
  REQUIRE(nn_safetensors_load(empty, &f) == 0);
  CHECK(f.n == 0 && f.nmeta == 0);
  nn_st_file_free(&f);
  st_set_free(&s);
}

TEST(io_st_layout) {
  st_set s;
  st_set_make(&s);
  const char *path = tmp("layout.safetensors");
  const char *keys[] = {"k", "k2"}, *values[] = {"v", "v"}; /* values may repeat */
  REQUIRE(nn_safetensors_save(path, 6, s.names, s.t, 2, keys, values) == 0);
  static char buf[4096];
  size_t size = read_bytes(path, buf, sizeof buf);
  uint64_t n;
  memcpy(&n, buf, 8);
  CHECK(n % 8 == 0 && 8 + n < size);
  CHECK(strncmp(buf + 8, "{\"__metadata__\":{\"k\":\"v\",\"k2\":\"v\"},\"empty\":", 43) == 0);
  for (uint64_t i = 0; i < n; i++) CHECK(buf[8 + i] != 0);
  CHECK(buf[8 + n - 1] == ' ' || buf[8 + n - 1] == '}');
  /* data: 0 (empty) + 48 (idx) + 8 (scale) + 24 + 24 + 5 bytes */
  CHECK(size == 8 + n + 48 + 8 + 24 + 24 + 5);
  CHECK(strstr(buf + 8, "\"idx\":{\"dtype\":\"I64\",\"shape\":[2,1,3],\"data_offsets\":[0,48]}"));
  CHECK(strstr(buf + 8, "\"scale\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[48,56]}"));
  st_set_free(&s);
}

TEST(io_st_atomic) {
  const char *path = tmp("keep.safetensors");
  write_bytes(path, "precious", 8);
  nn_tensor *t = patterned(NN_F32, 1, (int64_t[]){3});
  nn_tensor *ts[] = {t, t};
  const char *dup[] = {"a", "a"}, *reserved[] = {"__metadata__"}, *bad_utf8[] = {"\xff"};
  CHECK(nn_safetensors_save(path, 2, dup, ts, 0, NULL, NULL) < 0 && failed_with(path, "twice"));
  CHECK(nn_safetensors_save(path, 1, reserved, ts, 0, NULL, NULL) < 0 &&
        failed_with(path, "reserved"));
  CHECK(nn_safetensors_save(path, 1, bad_utf8, ts, 0, NULL, NULL) < 0 &&
        failed_with(path, "UTF-8"));
  const char *mk[] = {"a", "a"}, *mv[] = {"1", "2"};
  CHECK(nn_safetensors_save(path, 0, NULL, NULL, 2, mk, mv) < 0 && failed_with(path, "twice"));
  char buf[16];
  CHECK(read_bytes(path, buf, sizeof buf) == 8 && memcmp(buf, "precious", 8) == 0);
  const char *nowhere = tmp("no/such/dir/x.safetensors");
  const char *one[] = {"a"};
  CHECK(nn_safetensors_save(nowhere, 1, one, ts, 0, NULL, NULL) < 0 &&
        failed_with(nowhere, "cannot create"));
  CHECK(nn_npy_save(nowhere, t) < 0 && failed_with(nowhere, "cannot create"));
  /* a second save replaces the file; two names may share one tensor */
  const char *two[] = {"a", "b"};
  CHECK(nn_safetensors_save(path, 2, two, ts, 0, NULL, NULL) == 0);
  nn_st_file f;
  CHECK(nn_safetensors_load(path, &f) == 0 && f.n == 2 && same(f.tensors[1], t));
  nn_st_file_free(&f);
  /* no temp file is left behind */
  DIR *d = opendir(scratch);
  for (struct dirent *e; d && (e = readdir(d));) CHECK(!strstr(e->d_name, ".tmp."));
  if (d) closedir(d);
  nn_release(t);
}

/* A safetensors file from header text and data bytes (zeros when data is NULL). */
static const char *st_file(const char *name, const char *json, const void *data, size_t ndata) {
  const char *path = tmp(name);
  FILE *f = fopen(path, "wb");
  if (!f) return path;
  uint64_t n = strlen(json); /* little-endian host, as the readers assume */
  fwrite(&n, 8, 1, f);
  fwrite(json, 1, n, f);
  for (size_t i = 0; i < ndata; i++) fputc(data ? ((const char *)data)[i] : 0, f);
  fclose(f);
  return path;
}

TEST(io_st_foreign_dtypes) {
  /* little-endian bytes of each dtype, laid out by name, no padding */
  unsigned char data[] = {
      0x80, 0x3f, 0x00, 0xc0, 0x20, 0x3e,                         /* BF16 1, -2, 0.15625 */
      0x01, 0x00, 0x01,                                           /* BOOL 1, 0, 1 */
      0x00, 0x3c, 0x00, 0xc1, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x7c, /* F16 1 -2.5 65504 2^-24 inf */
      0x00, 0x80, 0xff, 0x7f,                                     /* I16 -32768 32767 */
      0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,             /* I32 -5, 2^31-1 */
      0x80, 0x7f,                                                 /* I8 -128 127 */
      0xff, 0xff,                                                 /* U16 65535 */
      0xff, 0xff, 0xff, 0xff,                                     /* U32 2^32-1 */
  };
  const char *json =
      " {\"a\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,6]},"
      "\"b\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[6,9]},"
      "\"c\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[9,19]},"
      "\"d\":{\"shape\":[2],\"dtype\":\"I16\",\"data_offsets\":[19,23]},"
      "\"e\":{\"dtype\":\"I32\",\"shape\":[1,2],\"data_offsets\":[23,31], \"extra\": 1},"
      "\"f\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[31,33]},"
      "\"g\":{\"dtype\":\"U16\",\"shape\":[],\"data_offsets\":[33,35]},"
      "\"h\":{\"dtype\":\"U32\",\"shape\":[1],\"data_offsets\":[35,39]},"
      "\"__metadata__\":null}\n ";
  const char *path = st_file("foreign.safetensors", json, data, sizeof data);
  nn_st_file f;
  REQUIRE(nn_safetensors_load(path, &f) == 0);
  REQUIRE(f.n == 8 && f.nmeta == 0);
  CHECK(values_are(f.tensors[0], NN_F32, 1, (int64_t[]){3}, (double[]){1, -2, 0.15625}));
  CHECK(values_are(f.tensors[1], NN_U8, 1, (int64_t[]){3}, (double[]){1, 0, 1}));
  CHECK(values_are(f.tensors[2], NN_F32, 1, (int64_t[]){5},
                   (double[]){1, -2.5, 65504, ldexp(1, -24), INFINITY}));
  CHECK(values_are(f.tensors[3], NN_I64, 1, (int64_t[]){2}, (double[]){-32768, 32767}));
  CHECK(values_are(f.tensors[4], NN_I64, 2, (int64_t[]){1, 2}, (double[]){-5, 2147483647}));
  CHECK(values_are(f.tensors[5], NN_I64, 1, (int64_t[]){2}, (double[]){-128, 127}));
  CHECK(values_are(f.tensors[6], NN_I64, 0, NULL, (double[]){65535}));
  CHECK(values_are(f.tensors[7], NN_I64, 1, (int64_t[]){1}, (double[]){4294967295.0}));
  nn_st_file_free(&f);
}

TEST(io_st_malformed) {
  nn_st_file f;
  static const struct {
    const char *json;
    size_t ndata;
    const char *error;
  } cases[] = {
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, "not valid JSON"},
      {"[1, 2]", 0, "not a JSON object"},
      {"{} {}", 0, "bytes after its JSON"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}x", 8, "bytes after"},
      {"{\"a\":\xff}", 0, "UTF-8"},
      {"{\"a\":\x01}", 0, "control character"},
      {"{\"a\":[]}", 0, "not a JSON object"},
      {"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "\"dtype\" is missing"},
      {"{\"a\":{\"dtype\":\"F99\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype"},
      {"{\"a\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "not supported"},
      {"{\"a\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "not supported"},
      {"{\"a\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "not a string"},
      {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "\"shape\" is missing"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "sizes >= 0"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", 8, "sizes >= 0"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8, "sizes >= 0"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
       "9 dimensions"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,"
       "8]}}",
       8, "too large"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "pair of offsets"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}", 8, "pair"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,-8]}}", 8, "pair"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8, "end before"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
       "shape {3} of F32 needs 12 bytes but data_offsets [0, 8] hold 8"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
       12, "overlap"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
       20, "gap in the data: bytes [8, 12)"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "gap"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
       "data_offsets reach byte 8 but the file holds 4"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4096],\"data_offsets\":[0,16384]}}", 8,
       "reach byte 16384"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 9, "1 trailing bytes"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
       "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
       16, "\"a\" appears twice"},
      {"{\"__metadata__\":{\"k\":1}}", 0, "metadata value for \"k\" is not a string"},
      {"{\"__metadata__\":{\"k\":\"x\",\"k\":\"y\"}}", 0, "metadata key \"k\" appears twice"},
      {"{\"__metadata__\":[]}", 0, "is not a JSON object"},
      {"", 0, "not valid JSON"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char name[32];
    snprintf(name, sizeof name, "bad%zu.safetensors", i);
    const char *path = st_file(name, cases[i].json, NULL, cases[i].ndata);
    int r = nn_safetensors_load(path, &f);
    CHECK(r < 0 && f.n == 0 && f.names == NULL && f.tensors == NULL && f.meta_keys == NULL);
    if (!failed_with(path, cases[i].error)) {
      fprintf(stderr, "  case %zu: %s\n", i, cases[i].json);
      ++*failures;
    }
  }
  /* broken length prefixes */
  const char *path = tmp("short.safetensors");
  write_bytes(path, "\x08\x00\x00", 3);
  CHECK(nn_safetensors_load(path, &f) < 0 && failed_with(path, "too short"));
  write_bytes(path, "", 0);
  CHECK(nn_safetensors_load(path, &f) < 0 && failed_with(path, "file is 0 bytes"));
  unsigned char huge[1234] = {0};
  uint64_t n = 999999999999ULL;
  memcpy(huge, &n, 8);
  write_bytes(path, huge, sizeof huge);
  CHECK(nn_safetensors_load(path, &f) < 0 &&
        failed_with(path, "header length 999999999999 exceeds the file size 1234"));
  n = UINT64_MAX;
  memcpy(huge, &n, 8);
  write_bytes(path, huge, sizeof huge);
  CHECK(nn_safetensors_load(path, &f) < 0 && failed_with(path, "exceeds the file size"));
  /* a header of millions of tiny values is refused before cJSON builds its tree */
  size_t nbig = 9000000;
  char *many = malloc(nbig + 16);
  REQUIRE(many);
  memcpy(many, "{\"a\":[", 6);
  for (size_t i = 6; i < nbig; i += 2) memcpy(many + i, "0,", 2);
  memcpy(many + nbig, "0]}", 4);
  CHECK(nn_safetensors_load(st_file("many.safetensors", many, NULL, 0), &f) < 0 &&
        failed_with(tmp("many.safetensors"), "more than 4000000 JSON values"));
  free(many);
  const char *missing = tmp("missing.safetensors");
  CHECK(nn_safetensors_load(missing, &f) < 0 && failed_with(missing, "cannot open"));
  CHECK(nn_safetensors_load(scratch, &f) < 0 && failed_with(scratch, "not a regular file"));
  /* a valid file cut short anywhere */
  nn_tensor *t = patterned(NN_F64, 1, (int64_t[]){4});
  const char *names[] = {"t"}, *whole = tmp("whole.safetensors");
  REQUIRE(nn_safetensors_save(whole, 1, names, &t, 0, NULL, NULL) == 0);
  static char buf[4096];
  size_t size = read_bytes(whole, buf, sizeof buf);
  for (size_t cut = 0; cut < size; cut += 3) {
    write_bytes(path, buf, cut);
    CHECK(nn_safetensors_load(path, &f) < 0 && failed_with(path, ""));
  }
  nn_release(t);
}

/* ======== .npy ======== */

TEST(io_npy_roundtrip) {
  nn_tensor *base = patterned(NN_F64, 2, (int64_t[]){2, 3});
  nn_tensor *cases[] = {
      patterned(NN_F32, 2, (int64_t[]){2, 3}),   patterned(NN_F64, 0, NULL),
      patterned(NN_I64, 1, (int64_t[]){4}),      patterned(NN_U8, 3, (int64_t[]){2, 1, 3}),
      patterned(NN_F32, 2, (int64_t[]){0, 3}),   nn_transpose(base, 0, 1),
      patterned(NN_F32, 1, (int64_t[]){100000}),
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *path = tmp("round.npy");
    REQUIRE(nn_npy_save(path, cases[i]) == 0);
    char head[16];
    read_bytes(path, head, sizeof head);
    uint16_t hlen = (uint16_t)((unsigned char)head[8] | (unsigned char)head[9] << 8);
    CHECK((10 + hlen) % 64 == 0);
    nn_tensor *back = nn_npy_load(path);
    CHECK(same(back, cases[i]));
    nn_release(back);
    nn_release(cases[i]);
  }
  nn_release(base);
}

/* byte for byte what numpy.save writes for np.zeros((3, 4), np.float32) */
TEST(io_npy_header_bytes) {
  nn_tensor *t = nn_zeros(NN_F32, 2, (int64_t[]){3, 4});
  const char *path = tmp("header.npy");
  REQUIRE(nn_npy_save(path, t) == 0);
  char buf[256], want[129];
  size_t n = read_bytes(path, buf, sizeof buf);
  snprintf(want, sizeof want, "\x93NUMPY\x01%c\x76%c%s%*s\n", 0, 0,
           "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 20 + 38, "");
  CHECK(n == 128 + 48 && memcmp(buf, want, 128) == 0);
  nn_release(t);
  nn_tensor *s = nn_scalar(NN_U8, 7);
  REQUIRE(nn_npy_save(path, s) == 0);
  n = read_bytes(path, buf, sizeof buf);
  CHECK(n == 129 &&
        memcmp(buf + 10, "{'descr': '|u1', 'fortran_order': False, 'shape': (), }", 55) == 0);
  CHECK(buf[127] == '\n' && buf[128] == 7);
  nn_release(s);
}

/* A .npy file from a version, header text (padded with spaces to 16) and data. */
static const char *npy_file(const char *name, int major, const char *dict, const void *data,
                            size_t ndata) {
  static char buf[4096];
  size_t n = strlen(dict), at = major == 1 ? 10 : 12, hlen = (n + 1 + at + 15) / 16 * 16 - at;
  memcpy(buf, "\x93NUMPY", 6);
  buf[6] = (char)major, buf[7] = 0;
  for (size_t k = 0; k < at - 8; k++) buf[8 + k] = (char)(hlen >> (8 * k));
  memset(buf + at, ' ', hlen);
  memcpy(buf + at, dict, n);
  buf[at + hlen - 1] = '\n';
  memcpy(buf + at + hlen, data, ndata);
  const char *path = tmp(name);
  write_bytes(path, buf, at + hlen + ndata);
  return path;
}

TEST(io_npy_variants) {
  int32_t i4[6] = {-7, 1, 2, 3, 4, 2147483647};
  nn_tensor *t = nn_npy_load(
      npy_file("a.npy", 1, "{ \"shape\":(2,3,) ,'fortran_order':False,  'descr':'<i4' }", i4, 24));
  CHECK(values_are(t, NN_I64, 2, (int64_t[]){2, 3}, (double[]){-7, 1, 2, 3, 4, 2147483647}));
  nn_release(t);
  /* Fortran order: columns stored first */
  double f8[6] = {0, 3, 1, 4, 2, 5};
  t = nn_npy_load(
      npy_file("f.npy", 1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2L, 3L)}", f8, 48));
  CHECK(values_are(t, NN_F64, 2, (int64_t[]){2, 3}, (double[]){0, 1, 2, 3, 4, 5}));
  CHECK(t && nn_is_contiguous(t));
  nn_release(t);
  /* big-endian, version 2.0 */
  unsigned char be[16] = {0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xc0, 0x04, 0, 0, 0, 0, 0, 0};
  t = nn_npy_load(
      npy_file("be.npy", 2, "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", be, 16));
  CHECK(values_are(t, NN_F64, 1, (int64_t[]){2}, (double[]){1, -2.5}));
  nn_release(t);
  unsigned char be4[8] = {0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 0};
  t = nn_npy_load(
      npy_file("be4.npy", 3, "{'descr': '>i4', 'fortran_order': False, 'shape': (2,)}", be4, 8));
  CHECK(values_are(t, NN_I64, 1, (int64_t[]){2}, (double[]){-2, 256}));
  nn_release(t);
  unsigned char b1[4] = {1, 0, 0, 1};
  t = nn_npy_load(
      npy_file("b1.npy", 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 2), }", b1, 4));
  CHECK(values_are(t, NN_U8, 2, (int64_t[]){2, 2}, (double[]){1, 0, 0, 1}));
  nn_release(t);
  uint16_t f2[2] = {0x3c00, 0xbc00};
  t = nn_npy_load(
      npy_file("f2.npy", 1, "{'descr':'<f2','fortran_order':False,'shape':(2,)}", f2, 4));
  CHECK(values_are(t, NN_F32, 1, (int64_t[]){2}, (double[]){1, -1}));
  nn_release(t);
  t = nn_npy_load(
      npy_file("e.npy", 1, "{'descr':'<f4','fortran_order':True,'shape':(0, 5)}", "", 0));
  CHECK(values_are(t, NN_F32, 2, (int64_t[]){0, 5}, NULL));
  nn_release(t);
}

TEST(io_npy_malformed) {
  static const struct {
    const char *dict;
    size_t ndata;
    const char *error;
  } cases[] = {
      {"{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16,
       "object arrays are refused (they need pickle)"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8, "structured"},
      {"{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16, "'<c8' is not supported"},
      {"{'descr': '<u8', 'fortran_order': False, 'shape': (2,), }", 16, "not supported"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8, "truncated"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 8, "trailing bytes"},
      {"{'descr': '<f4', 'fortran_order': False}", 8, "'shape' is missing"},
      {"{'descr': '<f4', 'shape': (2,), 'fortran_order': False, 'x': 1}", 8, "unexpected key"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8, "twice"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", 8, "True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", 8, "expected a size"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", 8, "not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}", 8, "expected ','"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1)}", 4, "more than 8"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,99999999999)}", 8,
       "too large"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}", 8, "expected ','"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", 8, "text after"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", 8, "expected ',' or '}'"},
      {"__import__('os').system('false')", 8, "expected '{'"},
      {"{'descr': '<\\f4', 'fortran_order': False, 'shape': (2,)}", 8, "escaped"},
  };
  char zeros[64] = {0};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char name[32];
    snprintf(name, sizeof name, "bad%zu.npy", i);
    const char *path = npy_file(name, 1, cases[i].dict, zeros, cases[i].ndata);
    CHECK(nn_npy_load(path) == NULL);
    if (!failed_with(path, cases[i].error)) {
      fprintf(stderr, "  case %zu: %s\n", i, cases[i].dict);
      ++*failures;
    }
  }
  const char *path = tmp("magic.npy");
  write_bytes(path, "\x93NUMPZ\x01\x00\x00\x00\x00\x00", 12);
  CHECK(nn_npy_load(path) == NULL && failed_with(path, "bad magic"));
  write_bytes(path, "\x93NUMPY\x04\x00\x00\x00\x00\x00", 12);
  CHECK(nn_npy_load(path) == NULL && failed_with(path, "version 4.0"));
  write_bytes(path, "\x93NUMPY\x01\x00\xff\xff\x00\x00", 12);
  CHECK(nn_npy_load(path) == NULL && failed_with(path, "header length 65535 exceeds the file"));
  write_bytes(path, "\x93NUMPY\x02\x00\xff\xff\xff\x7f", 12);
  CHECK(nn_npy_load(path) == NULL && failed_with(path, "exceeds the file size"));
  write_bytes(path, "\x93NUM", 5);
  CHECK(nn_npy_load(path) == NULL && failed_with(path, "too short"));
  /* a valid file cut short anywhere */
  nn_tensor *t = patterned(NN_I64, 1, (int64_t[]){3});
  REQUIRE(nn_npy_save(path, t) == 0);
  char buf[256];
  size_t size = read_bytes(path, buf, sizeof buf);
  const char *cut_path = tmp("cut.npy");
  for (size_t cut = 0; cut < size; cut += 5) {
    write_bytes(cut_path, buf, cut);
    CHECK(nn_npy_load(cut_path) == NULL && failed_with(cut_path, ""));
  }
  nn_release(t);
}

/* ======== IDX ======== */

/* An IDX file (gzip-compressed when gz) of the given header and big-endian data. */
static const char *idx_file(const char *name, bool gz, const void *bytes, size_t n) {
  const char *path = tmp(name);
  if (!gz) {
    write_bytes(path, bytes, n);
    return path;
  }
  gzFile f = gzopen(path, "wb");
  gzwrite(f, bytes, (unsigned)n);
  gzclose(f);
  return path;
}

TEST(io_idx_types) {
  for (int gz = 0; gz <= 1; gz++) {
    unsigned char u8[] = {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 250, 255, 0};
    nn_tensor *t = nn_idx_load(idx_file("u8.idx", gz, u8, sizeof u8));
    CHECK(values_are(t, NN_U8, 2, (int64_t[]){2, 3}, (double[]){1, 2, 3, 250, 255, 0}));
    nn_release(t);
    unsigned char i8[] = {0, 0, 9, 1, 0, 0, 0, 2, 0x80, 0x7f};
    t = nn_idx_load(idx_file("i8.idx", gz, i8, sizeof i8));
    CHECK(values_are(t, NN_I64, 1, (int64_t[]){2}, (double[]){-128, 127}));
    nn_release(t);
    unsigned char i16[] = {0, 0, 0x0b, 1, 0, 0, 0, 2, 0xff, 0xfe, 0x01, 0x00};
    t = nn_idx_load(idx_file("i16.idx", gz, i16, sizeof i16));
    CHECK(values_are(t, NN_I64, 1, (int64_t[]){2}, (double[]){-2, 256}));
    nn_release(t);
    unsigned char i32[] = {0, 0, 0x0c, 1, 0, 0, 0, 2, 0x80, 0, 0, 0, 0, 1, 0, 0};
    t = nn_idx_load(idx_file("i32.idx", gz, i32, sizeof i32));
    CHECK(values_are(t, NN_I64, 1, (int64_t[]){2}, (double[]){-2147483648.0, 65536}));
    nn_release(t);
    unsigned char f32[] = {0, 0, 0x0d, 1, 0, 0, 0, 1, 0xc0, 0x20, 0, 0};
    t = nn_idx_load(idx_file("f32.idx", gz, f32, sizeof f32));
    CHECK(values_are(t, NN_F32, 1, (int64_t[]){1}, (double[]){-2.5}));
    nn_release(t);
    unsigned char f64[] = {0, 0, 0x0e, 3, 0,    0,    0, 1, 0, 0, 0, 1,
                           0, 0, 0,    1, 0x3f, 0xd0, 0, 0, 0, 0, 0, 0};
    t = nn_idx_load(idx_file("f64.idx", gz, f64, sizeof f64));
    CHECK(values_are(t, NN_F64, 3, (int64_t[]){1, 1, 1}, (double[]){0.25}));
    nn_release(t);
    unsigned char empty[] = {0, 0, 8, 2, 0, 0, 0, 0, 0, 0, 0, 28};
    t = nn_idx_load(idx_file("empty.idx", gz, empty, sizeof empty));
    CHECK(values_are(t, NN_U8, 2, (int64_t[]){0, 28}, NULL));
    nn_release(t);
  }
}

TEST(io_idx_load_as) {
  for (int gz = 0; gz <= 1; gz++) {
    unsigned char u8[] = {0, 0, 8, 1, 0, 0, 0, 3, 0, 51, 255};
    nn_tensor *t = nn_idx_load_as(idx_file("u8as.idx", gz, u8, sizeof u8), NN_F64, 255);
    CHECK(values_are(t, NN_F64, 1, (int64_t[]){3}, (double[]){0, 0.2, 1}));
    nn_release(t);
    unsigned char i16[] = {0, 0, 0x0b, 1, 0, 0, 0, 2, 0xff, 0xfe, 0x01, 0x00};
    t = nn_idx_load_as(idx_file("i16as.idx", gz, i16, sizeof i16), NN_F32, -2);
    CHECK(values_are(t, NN_F32, 1, (int64_t[]){2}, (double[]){1, -128}));
    nn_release(t);
    t = nn_idx_load_as(idx_file("i16as.idx", gz, i16, sizeof i16), NN_U8, 1); /* wraps */
    CHECK(values_are(t, NN_U8, 1, (int64_t[]){2}, (double[]){254, 0}));
    nn_release(t);
  }
  const char *path = tmp("u8as.idx");
  CHECK(nn_idx_load_as(path, NN_F32, 0) == NULL && failed_with(path, "finite and nonzero"));
  CHECK(nn_idx_load_as(path, NN_I64, 2) == NULL && failed_with(path, "needs a float dtype"));
}

TEST(io_idx_malformed) {
  static const struct {
    unsigned char bytes[20];
    size_t n;
    const char *error;
  } cases[] = {
      {{0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3}, 11, "truncated"},
      {{0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3}, 11, "trailing bytes"},
      {{0, 0, 8, 2, 0, 0, 0, 4}, 8, "truncated (IDX sizes"},
      {{0, 0, 8}, 3, "truncated (IDX header"},
      {{0}, 0, "truncated (IDX header"},
      {{1, 0, 8, 1, 0, 0, 0, 1, 0}, 9, "not an IDX file (magic bytes 01 00 08 01"},
      {{0, 0, 7, 1, 0, 0, 0, 1, 0}, 9, "unknown IDX element type 0x07"},
      {{0, 0, 8, 9}, 4, "9 dimensions"},
      {{0, 0, 0x0c, 1, 0, 0, 0, 2, 0, 0, 0, 1}, 12, "truncated"},
      {{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
       16,
       "too large"},
      {{0, 0, 8, 2, 0, 0x10, 0, 0, 0, 0x10, 0, 0}, 12, "need 1099511627776 bytes"},
  };
  for (int gz = 0; gz <= 1; gz++)
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
      char name[32];
      snprintf(name, sizeof name, "bad%zu.idx%s", i, gz ? ".gz" : "");
      const char *path = idx_file(name, gz, cases[i].bytes, cases[i].n);
      CHECK(nn_idx_load(path) == NULL);
      if (!failed_with(path, cases[i].error)) {
        fprintf(stderr, "  case %zu (gz %d)\n", i, gz);
        ++*failures;
      }
      CHECK(nn_idx_load_as(path, NN_F32, 255) == NULL); /* the converting reader, the same */
      if (!failed_with(path, cases[i].error)) {
        fprintf(stderr, "  case %zu (gz %d, as f32)\n", i, gz);
        ++*failures;
      }
    }
  /* a gzip stream cut short, and one with a corrupted body */
  static unsigned char big[4 + 8 + 4096];
  memcpy(big, (unsigned char[]){0, 0, 8, 2, 0, 0, 0, 64, 0, 0, 0, 64}, 12);
  for (size_t i = 12; i < sizeof big; i++) big[i] = (unsigned char)(i * 2654435761u >> 13);
  const char *whole = idx_file("whole.idx.gz", true, big, sizeof big);
  static char buf[8192];
  size_t size = read_bytes(whole, buf, sizeof buf);
  const char *path = tmp("cut.idx.gz");
  for (size_t cut = 1; cut < size; cut += size / 7) {
    write_bytes(path, buf, cut);
    CHECK(nn_idx_load(path) == NULL && failed_with(path, ""));
    CHECK(nn_idx_load_as(path, NN_F64, 2) == NULL && failed_with(path, ""));
  }
  buf[size / 2] ^= 0x55;
  write_bytes(path, buf, size);
  CHECK(nn_idx_load(path) == NULL && failed_with(path, ""));
  CHECK(nn_idx_load_as(path, NN_F64, 2) == NULL && failed_with(path, ""));
  const char *missing = tmp("missing.idx");
  CHECK(nn_idx_load(missing) == NULL && failed_with(missing, "cannot open"));
}

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

TEST(io_fashion_mnist) {
  const char *dir = "/usr/share/datasets/fashion-mnist";
  static const struct {
    const char *file;
    int ndim;
    int64_t n;
  } files[] = {{"train-images-idx3-ubyte.gz", 3, 60000},
               {"train-labels-idx1-ubyte.gz", 1, 60000},
               {"t10k-images-idx3-ubyte.gz", 3, 10000},
               {"t10k-labels-idx1-ubyte.gz", 1, 10000}};
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, files[0].file);
  if (access(path, R_OK) != 0) {
    test_skip("%s not found (make deps installs dataset-fashion-mnist)", dir);
    return;
  }
  for (int i = 0; i < 4; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i].file);
    double t0 = seconds();
    nn_tensor *t = nn_idx_load(path);
    double dt = seconds() - t0;
    REQUIRE(t);
    CHECK(t->dtype == NN_U8 && t->ndim == files[i].ndim && t->shape[0] == files[i].n);
    if (files[i].ndim == 3) {
      CHECK(t->shape[1] == 28 && t->shape[2] == 28);
      if (i == 0) printf("# io_fashion_mnist: train images loaded in %.3f s\n", dt);
    } else {
      int count[10] = {0}, bad = 0;
      const uint8_t *y = (const uint8_t *)nn_data(t);
      for (int64_t k = 0; k < t->shape[0]; k++) y[k] < 10 ? count[y[k]]++ : bad++;
      CHECK(bad == 0);
      for (int c = 0; c < 10; c++) CHECK(count[c] == files[i].n / 10); /* balanced classes */
    }
    nn_release(t);
  }
}

/* ======== files written by numpy / PyTorch, and read by them ======== */

/* The script sits next to this file: tests/c/../data/io_interop.py from the repo's root. */
static const char *interop_script(void) {
  static char path[512];
  snprintf(path, sizeof path, "%s", __FILE__);
  char *slash = strrchr(path, '/');
  snprintf(slash ? slash + 1 : path, sizeof path - (slash ? (size_t)(slash + 1 - path) : 0),
           "../data/io_interop.py");
  return access(path, R_OK) == 0 ? path : NULL;
}

/* What relua writes for the script to check (the script knows the same patterns). */
static int write_for_python(void) {
  nn_tensor *base = patterned(NN_F64, 2, (int64_t[]){2, 3});
  nn_tensor *t[] = {
      patterned(NN_F32, 2, (int64_t[]){2, 3}), patterned(NN_F64, 0, NULL),
      patterned(NN_I64, 1, (int64_t[]){4}),    patterned(NN_U8, 3, (int64_t[]){2, 1, 3}),
      patterned(NN_F32, 2, (int64_t[]){0, 3}), nn_transpose(base, 0, 1),
  };
  const char *names[] = {"f32", "f64_scalar", "i64", "u8", "empty", "f64_t"};
  const char *keys[] = {"format", "note"}, *values[] = {"pt", "h\xc3\xa9llo"};
  int r = nn_safetensors_save(tmp("relua.safetensors"), 6, names, t, 2, keys, values);
  for (int i = 0; i < 6; i++) {
    char name[64];
    snprintf(name, sizeof name, "relua_%s.npy", names[i]);
    if (r == 0) r = nn_npy_save(tmp(name), t[i]);
    nn_release(t[i]);
  }
  nn_release(base);
  return r;
}

TEST(io_python_interop) {
  const char *script = interop_script();
  if (!script || access("/usr/bin/python3", X_OK) != 0) {
    test_skip("needs /usr/bin/python3 and tests/data/io_interop.py");
    return;
  }
  REQUIRE(write_for_python() == 0);
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s", script, scratch);
  int status = system(cmd); /* checks relua's files, then writes its own */
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
    test_skip("python3 lacks numpy or torch (make deps installs them)");
    return;
  }
  REQUIRE(status == 0);

  /* numpy's files */
  nn_tensor *t = nn_npy_load(tmp("np_f4.npy"));
  CHECK(values_are(t, NN_F32, 2, (int64_t[]){2, 3}, (double[]){-1, -0.5, 0, 0.5, 1, 1.5}));
  nn_release(t);
  t = nn_npy_load(tmp("np_f8_fortran.npy"));
  CHECK(values_are(t, NN_F64, 2, (int64_t[]){3, 4},
                   (double[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  nn_release(t);
  t = nn_npy_load(tmp("np_f4_transposed.npy"));
  CHECK(values_are(t, NN_F32, 2, (int64_t[]){3, 2}, (double[]){0, 3, 1, 4, 2, 5}));
  nn_release(t);
  t = nn_npy_load(tmp("np_i8.npy"));
  CHECK(values_are(t, NN_I64, 1, (int64_t[]){3},
                   (double[]){-3, (double)((1LL << 40) - 3), (double)((2LL << 40) - 3)}));
  nn_release(t);
  t = nn_npy_load(tmp("np_u1.npy"));
  CHECK(values_are(t, NN_U8, 1, (int64_t[]){3}, (double[]){0, 128, 255}));
  nn_release(t);
  t = nn_npy_load(tmp("np_b1.npy"));
  CHECK(values_are(t, NN_U8, 1, (int64_t[]){3}, (double[]){1, 0, 1}));
  nn_release(t);
  t = nn_npy_load(tmp("np_i4.npy"));
  CHECK(values_are(t, NN_I64, 1, (int64_t[]){3}, (double[]){-2147483648.0, -1, 2147483647}));
  nn_release(t);
  t = nn_npy_load(tmp("np_be_f8.npy"));
  CHECK(values_are(t, NN_F64, 1, (int64_t[]){3}, (double[]){0.25, 1.25, 2.25}));
  nn_release(t);
  t = nn_npy_load(tmp("np_be_i2.npy"));
  CHECK(values_are(t, NN_I64, 1, (int64_t[]){3}, (double[]){-300, 5, 32767}));
  nn_release(t);
  t = nn_npy_load(tmp("np_f2.npy"));
  CHECK(values_are(t, NN_F32, 1, (int64_t[]){3}, (double[]){1, -2.5, ldexp(1, -24)}));
  nn_release(t);
  t = nn_npy_load(tmp("np_scalar.npy"));
  CHECK(values_are(t, NN_F32, 0, NULL, (double[]){7.5}));
  nn_release(t);
  t = nn_npy_load(tmp("np_empty.npy"));
  CHECK(values_are(t, NN_F32, 2, (int64_t[]){0, 3}, NULL));
  nn_release(t);
  t = nn_npy_load(tmp("np_v2.npy"));
  CHECK(values_are(t, NN_F64, 2, (int64_t[]){2, 3}, (double[]){0, 1, 2, 3, 4, 5}));
  nn_release(t);
  const char *obj = tmp("np_object.npy");
  CHECK(nn_npy_load(obj) == NULL && failed_with(obj, "object arrays are refused"));

  /* a safetensors file laid out by hand from torch tensors: by name, unpadded, metadata last */
  nn_st_file f;
  REQUIRE(nn_safetensors_load(tmp("torch.safetensors"), &f) == 0);
  CHECK(f.nmeta == 1 && strcmp(f.meta_keys[0], "framework") == 0 &&
        strcmp(f.meta_values[0], "torch") == 0);
  static const struct {
    const char *name;
    nn_dtype dt;
    int ndim;
    int64_t shape[2];
    double v[4];
  } want[] = {
      {"a_bf16", NN_F32, 1, {4}, {1, -2, 0.15625, 256}},
      {"b_f16", NN_F32, 1, {3}, {0.5, -1.5, 1024}},
      {"c_i32", NN_I64, 2, {2, 2}, {-5, 7, 2147483647, -2147483648.0}},
      {"d_bool", NN_U8, 1, {4}, {1, 0, 1, 1}},
      {"e_i16", NN_I64, 1, {2}, {-32768, 32767}},
      {"f_i8", NN_I64, 1, {3}, {-128, 127, 0}},
      {"g_u16", NN_I64, 1, {2}, {65535, 0}},
      {"h_u32", NN_I64, 1, {2}, {4294967295.0, 1}},
      {"i_f64", NN_F64, 0, {0}, {2.5}},
      {"j_i64", NN_I64, 1, {3}, {-1, 9007199254740992.0, 5}},
      {"k_u8", NN_U8, 1, {2}, {0, 255}},
      {"l_empty", NN_F32, 2, {0, 4}, {0}},
      {"m_f32", NN_F32, 2, {2, 2}, {0, 1.5, 3, 4.5}},
  };
  CHECK(f.n == (int)(sizeof want / sizeof *want));
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    int k = find(&f, want[i].name);
    CHECK(k >= 0);
    if (k >= 0 && !values_are(f.tensors[k], want[i].dt, want[i].ndim, want[i].shape, want[i].v)) {
      fprintf(stderr, "  in tensor %s\n", want[i].name);
      ++*failures;
    }
  }
  nn_st_file_free(&f);
}

/* ======== random damage: any outcome but a crash (run under ASan) ======== */

static uint64_t lcg(uint64_t *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return *s >> 33;
}

TEST(io_mutations) {
  nn_tensor *a = patterned(NN_F32, 2, (int64_t[]){3, 4}), *b = patterned(NN_I64, 1, (int64_t[]){2});
  const char *names[] = {"a", "b"}, *keys[] = {"k"}, *values[] = {"v"};
  const char *st = tmp("m.safetensors"), *npy = tmp("m.npy"), *bad = tmp("mutant");
  REQUIRE(nn_safetensors_save(st, 2, names, (nn_tensor *[]){a, b}, 1, keys, values) == 0);
  REQUIRE(nn_npy_save(npy, a) == 0);
  unsigned char idx[4 + 8 + 12] = {0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 4};
  const char *idx_path = idx_file("m.idx.gz", true, idx, sizeof idx);
  const char *files[] = {st, npy, idx_path};
  uint64_t seed = 12345;
  for (int kind = 0; kind < 3; kind++) {
    static char orig[4096], buf[4096];
    size_t n = read_bytes(files[kind], orig, sizeof orig);
    for (int trial = 0; trial < 400; trial++) {
      memcpy(buf, orig, n);
      size_t len = n;
      int flips = 1 + (int)(lcg(&seed) % 4);
      for (int k = 0; k < flips; k++) buf[lcg(&seed) % n] = (char)lcg(&seed);
      if (trial % 5 == 0) len = lcg(&seed) % n; /* and sometimes cut */
      write_bytes(bad, buf, len);
      nn_st_file f;
      nn_tensor *t = NULL;
      int r = kind == 0                                               ? nn_safetensors_load(bad, &f)
              : (t = kind == 1 ? nn_npy_load(bad) : nn_idx_load(bad)) ? 0
                                                                      : -1;
      if (r < 0)
        CHECK(failed_with(bad, ""));
      else if (kind == 0)
        nn_st_file_free(&f);
      nn_release(t);
    }
  }
  nn_release(a);
  nn_release(b);
}
