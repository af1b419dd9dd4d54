/*
** nn/io_safetensors.c: reading and writing safetensors files.
**
** Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each name to
** {"dtype", "shape", "data_offsets": [begin, end]} (plus an optional "__metadata__" object of
** strings), then the data, offsets relative to byte 8+N. The reader enforces the reference
** implementation's rules: N <= 100,000,000, valid UTF-8 and JSON, no duplicate names, and the
** tensors, sorted by offset, tile the data exactly up to the end of the file. Because the
** tiling is checked before any tensor is allocated, memory never exceeds the file's size
** (times the widening of small integer and half-float dtypes).
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "nn/io.h"
#include "nn/io_common.h"

static const int64_t MAX_HEADER = 100000000;
static const char METADATA[] = "__metadata__";

/* Every dtype name of the format; the ones relua cannot hold have no raw type (-1). */
static const struct {
  const char *name;
  int raw;
} st_dtypes[] = {
    {"F32", NN_RAW_F32},   {"F64", NN_RAW_F64}, {"I64", NN_RAW_I64}, {"U8", NN_RAW_U8},
    {"BOOL", NN_RAW_BOOL}, {"I8", NN_RAW_I8},   {"I16", NN_RAW_I16}, {"U16", NN_RAW_U16},
    {"I32", NN_RAW_I32},   {"U32", NN_RAW_U32}, {"F16", NN_RAW_F16}, {"BF16", NN_RAW_BF16},
    {"U64", -1},           {"C64", -1},         {"F4", -1},          {"F6_E2M3", -1},
    {"F6_E3M2", -1},       {"F8_E5M2", -1},     {"F8_E4M3", -1},     {"F8_E8M0", -1},
    {"F8_E4M3FNUZ", -1},   {"F8_E5M2FNUZ", -1},
};

/* What relua writes, and the reference writer's order: larger alignment first (its dtype enum
   ranks I64 above F64). */
static const struct {
  const char *name;
  int rank;
} st_written[NN_NDTYPES] = {
    [NN_F32] = {"F32", 1}, [NN_F64] = {"F64", 2}, [NN_I64] = {"I64", 3}, [NN_U8] = {"U8", 0}};

/* ======== shared checks ======== */

static bool valid_utf8(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    int len = c < 0x80             ? 1
              : (c & 0xe0) == 0xc0 ? 2
              : (c & 0xf0) == 0xe0 ? 3
              : (c & 0xf8) == 0xf0 ? 4
                                   : 0;
    if (!len || i + len > n) return false;
    uint32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (int k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000}; /* no overlong forms */
    if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first name that occurs twice in names[0..n), or NULL. Sorts a copy of the pointers. */
static const char *find_duplicate(const char *const *names, int n, bool *oom) {
  *oom = false;
  if (n < 2) return NULL;
  const char **sorted = malloc((size_t)n * sizeof *sorted);
  if (!sorted) {
    *oom = true;
    return NULL;
  }
  memcpy(sorted, names, (size_t)n * sizeof *sorted);
  qsort(sorted, (size_t)n, sizeof *sorted, compare_strings);
  const char *dup = NULL;
  for (int i = 1; i < n && !dup; i++)
    if (strcmp(sorted[i - 1], sorted[i]) == 0) dup = sorted[i];
  free(sorted);
  return dup;
}

/* ======== writing ======== */

typedef struct {
  const char *name;
  nn_tensor *t;
} named;

static int compare_layout(const void *a, const void *b) {
  const named *x = a, *y = b;
  int rx = st_written[x->t->dtype].rank, ry = st_written[y->t->dtype].rank;
  return rx != ry ? ry - rx : strcmp(x->name, y->name);
}

/* Each string present and valid UTF-8; distinct too when `unique`. */
static int check_strings(const char *path, const char *what, int n, const char *const *s,
                         bool unique) {
  for (int i = 0; i < n; i++) {
    if (!s[i]) return nn_errc("%s: %s %d is missing", path, what, i + 1);
    if (!valid_utf8((const unsigned char *)s[i], strlen(s[i])))
      return nn_errc("%s: %s %d is not valid UTF-8", path, what, i + 1);
  }
  bool oom;
  const char *dup = unique ? find_duplicate(s, n, &oom) : (oom = false, NULL);
  if (oom) return nn_errc("%s: out of memory", path);
  if (dup) return nn_errc("%s: %s \"%.80s\" appears twice", path, what, dup);
  return 0;
}

static int check_save_args(const char *path, int n, const char *const *names,
                           nn_tensor *const *tensors, int nmeta, const char *const *keys,
                           const char *const *values) {
  if (n < 0 || nmeta < 0) return nn_errc("%s: negative count of tensors or metadata", path);
  if (check_strings(path, "tensor name", n, names, true) < 0) return -1;
  for (int i = 0; i < n; i++) {
    if (!tensors[i]) return nn_errc("%s: tensor \"%.80s\" is missing", path, names[i]);
    if (strcmp(names[i], METADATA) == 0)
      return nn_errc("%s: \"%s\" is reserved and cannot name a tensor", path, METADATA);
  }
  if (check_strings(path, "metadata key", nmeta, keys, true) < 0) return -1;
  for (int i = 0; i < nmeta; i++)
    if (!values[i]) return nn_errc("%s: metadata value for \"%.80s\" is missing", path, keys[i]);
  return check_strings(path, "metadata value", nmeta, values, false);
}

/* JSON integers written by hand: cJSON prints doubles, and 1e+16 is no valid offset. */
static cJSON *int_array(int n, const int64_t *v) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; a && i < n; i++) {
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)v[i]);
    cJSON *x = cJSON_CreateRaw(buf);
    if (!x || !cJSON_AddItemToArray(a, x)) {
      cJSON_Delete(x);
      cJSON_Delete(a);
      return NULL;
    }
  }
  return a;
}

static bool add(cJSON *object, const char *key, cJSON *item) {
  if (item && cJSON_AddItemToObject(object, key, item)) return true;
  cJSON_Delete(item);
  return false;
}

static cJSON *tensor_entry(const nn_tensor *t, int64_t begin, int64_t end) {
  cJSON *e = cJSON_CreateObject();
  if (e && add(e, "dtype", cJSON_CreateString(st_written[t->dtype].name)) &&
      add(e, "shape", int_array(t->ndim, t->shape)) &&
      add(e, "data_offsets", int_array(2, (int64_t[]){begin, end})))
    return e;
  cJSON_Delete(e);
  return NULL;
}

/* The header JSON, "__metadata__" first, then the tensors in layout order. */
static char *header_json(int n, const named *order, int nmeta, const char *const *keys,
                         const char *const *values) {
  cJSON *root = cJSON_CreateObject(), *meta = NULL;
  bool ok = root != NULL;
  if (ok && nmeta > 0) {
    ok = add(root, METADATA, meta = cJSON_CreateObject());
    for (int i = 0; ok && i < nmeta; i++) ok = add(meta, keys[i], cJSON_CreateString(values[i]));
  }
  int64_t offset = 0;
  for (int i = 0; ok && i < n; i++) {
    int64_t nbytes = nn_numel(order[i].t) * (int64_t)nn_dtype_size(order[i].t->dtype);
    ok = add(root, order[i].name, tensor_entry(order[i].t, offset, offset + nbytes));
    offset += nbytes;
  }
  char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  return text;
}

static int write_file(const char *path, const char *json, int n, const named *order) {
  size_t len = strlen(json), padded = (len + 7) / 8 * 8;
  if ((int64_t)padded > MAX_HEADER)
    return nn_errc("%s: header of %zu bytes exceeds the limit of %lld", path, padded,
                   (long long)MAX_HEADER);
  unsigned char prefix[8];
  for (int k = 0; k < 8; k++) prefix[k] = (unsigned char)((uint64_t)padded >> (8 * k));
  nn_writer w;
  if (nn_writer_open(&w, path) < 0 || nn_writer_put(&w, prefix, 8) < 0 ||
      nn_writer_put(&w, json, len) < 0 || nn_writer_put(&w, "       ", padded - len) < 0)
    return -1;
  for (int i = 0; i < n; i++)
    if (nn_writer_put_tensor(&w, order[i].t) < 0) return -1;
  return nn_writer_commit(&w);
}

int nn_safetensors_save(const char *path, int n, const char *const *names,
                        nn_tensor *const *tensors, int nmeta, const char *const *meta_keys,
                        const char *const *meta_values) {
  if (check_save_args(path, n, names, tensors, nmeta, meta_keys, meta_values) < 0) return -1;
  named *order = malloc((size_t)(n ? n : 1) * sizeof *order);
  if (!order) return nn_errc("%s: out of memory", path);
  for (int i = 0; i < n; i++) order[i] = (named){names[i], tensors[i]};
  qsort(order, (size_t)n, sizeof *order, compare_layout);
  char *json = header_json(n, order, nmeta, meta_keys, meta_values);
  int r = json ? write_file(path, json, n, order) : nn_errc("%s: out of memory", path);
  cJSON_free(json);
  free(order);
  return r;
}

/* ======== reading ======== */

typedef struct {
  const char *name, *dtype; /* point into the cJSON tree */
  nn_raw raw;
  int ndim;
  int64_t shape[NN_MAXDIM];
  int64_t begin, end;
} entry;

/* Reads the length prefix and the header text (NUL-terminated) after checking the length. */
static char *read_header(FILE *f, const char *path, int64_t size, int64_t *hlen) {
  if (size < 8)
    return nn_err("%s: file is %lld bytes, too short for a safetensors header (8 bytes at least)",
                  path, (long long)size);
  unsigned char prefix[8];
  if (nn_reader_get(f, path, prefix, 8, "header length") < 0) return NULL;
  uint64_t n = 0;
  for (int k = 7; k >= 0; k--) n = n << 8 | prefix[k];
  if (n > (uint64_t)(size - 8))
    return nn_err("%s: header length %llu exceeds the file size %lld", path, (unsigned long long)n,
                  (long long)size);
  if (n > (uint64_t)MAX_HEADER)
    return nn_err("%s: header length %llu exceeds the limit of %lld bytes", path,
                  (unsigned long long)n, (long long)MAX_HEADER);
  char *text = malloc(n + 1);
  if (!text)
    return nn_err("%s: out of memory reading a header of %llu bytes", path, (unsigned long long)n);
  if (nn_reader_get(f, path, text, n, "header") < 0) {
    free(text);
    return NULL;
  }
  text[n] = 0;
  *hlen = (int64_t)n;
  return text;
}

/* Before cJSON builds its tree (about 64 bytes a value): no raw control characters (JSON
   allows them only as whitespace) and a bounded count of values, so that a 100 MB header of
   "[0,0,0,..." cannot cost gigabytes. A real header has a dozen values a tensor. */
static const int64_t MAX_VALUES = 4000000;

static int scan_header(const char *path, const char *text, int64_t n) {
  if (!valid_utf8((const unsigned char *)text, (size_t)n))
    return nn_errc("%s: header is not valid UTF-8", path);
  int64_t values = 1;
  bool in_string = false;
  for (int64_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r')
      return nn_errc("%s: header is not valid JSON (control character 0x%02x at byte %lld)", path,
                     c, (long long)i);
    if (in_string) {
      if (c == '\\')
        i++; /* the escaped character */
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else {
      values += c == ',' || c == ':' || c == '[' || c == '{';
    }
  }
  if (values > MAX_VALUES)
    return nn_errc("%s: header holds more than %lld JSON values", path, (long long)MAX_VALUES);
  return 0;
}

static cJSON *parse_header(const char *path, const char *text, int64_t n) {
  if (scan_header(path, text, n) < 0) return NULL;
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text, (size_t)n, &end, false);
  if (!root)
    return nn_err("%s: header is not valid JSON (error at byte %lld of %lld)", path,
                  (long long)(end ? end - text : 0), (long long)n);
  end += strspn(end, " \t\n\r");
  if (end != text + n) {
    cJSON_Delete(root);
    return nn_err("%s: header has bytes after its JSON value (at byte %lld of %lld)", path,
                  (long long)(end - text), (long long)n);
  }
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return nn_err("%s: header is not a JSON object", path);
  }
  return root;
}

/* A JSON number that is a non-negative integer we can hold exactly. */
static bool json_size(const cJSON *x, int64_t *v) {
  if (!cJSON_IsNumber(x)) return false;
  double d = x->valuedouble;
  if (!(d >= 0 && d <= 9007199254740992.0) || d != floor(d)) return false;
  *v = (int64_t)d;
  return true;
}

static int entry_error(const char *path, const char *name, const char *what) {
  return nn_errc("%s: tensor \"%.80s\": %s", path, name, what);
}

static int parse_dtype(const char *path, const char *name, const cJSON *dt, nn_raw *raw) {
  if (!cJSON_IsString(dt)) return entry_error(path, name, "\"dtype\" is missing or not a string");
  for (size_t i = 0; i < sizeof st_dtypes / sizeof *st_dtypes; i++) {
    if (strcmp(dt->valuestring, st_dtypes[i].name) != 0) continue;
    if (st_dtypes[i].raw < 0)
      return nn_errc("%s: tensor \"%.80s\": dtype %s is not supported (relua reads F32 F64 I64 "
                     "U8 BOOL I8 I16 I32 U16 U32 F16 BF16)",
                     path, name, dt->valuestring);
    *raw = (nn_raw)st_dtypes[i].raw;
    return 0;
  }
  return nn_errc("%s: tensor \"%.80s\": unknown dtype \"%.40s\"", path, name, dt->valuestring);
}

static int parse_shape(const char *path, entry *e, const cJSON *shape) {
  if (!cJSON_IsArray(shape))
    return entry_error(path, e->name, "\"shape\" is missing or not an array");
  int ndim = cJSON_GetArraySize(shape);
  if (ndim > NN_MAXDIM)
    return nn_errc("%s: tensor \"%.80s\": %d dimensions (at most %d are supported)", path, e->name,
                   ndim, NN_MAXDIM);
  const cJSON *x;
  e->ndim = 0;
  cJSON_ArrayForEach(x, shape) {
    if (!json_size(x, &e->shape[e->ndim++]))
      return entry_error(path, e->name, "\"shape\" holds something other than sizes >= 0");
  }
  return 0;
}

static int parse_offsets(const char *path, entry *e, const cJSON *off) {
  if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 || !json_size(off->child, &e->begin) ||
      !json_size(off->child->next, &e->end))
    return entry_error(path, e->name, "\"data_offsets\" is not a pair of offsets >= 0");
  if (e->end < e->begin)
    return nn_errc("%s: tensor \"%.80s\": data_offsets [%lld, %lld] end before they begin", path,
                   e->name, (long long)e->begin, (long long)e->end);
  int64_t nbytes = nn_raw_nbytes(path, e->raw, e->ndim, e->shape);
  if (nbytes < 0) return -1;
  if (nbytes != e->end - e->begin)
    return nn_errc("%s: tensor \"%.80s\": shape %s of %s needs %lld bytes but data_offsets "
                   "[%lld, %lld] hold %lld",
                   path, e->name, nn_dims_str(e->ndim, e->shape), e->dtype, (long long)nbytes,
                   (long long)e->begin, (long long)e->end, (long long)(e->end - e->begin));
  return 0;
}

static int parse_entry(const char *path, const cJSON *item, entry *e) {
  e->name = item->string;
  if (!cJSON_IsObject(item)) return entry_error(path, e->name, "entry is not a JSON object");
  const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
  if (parse_dtype(path, e->name, dtype, &e->raw) < 0) return -1;
  e->dtype = dtype->valuestring;
  if (parse_shape(path, e, cJSON_GetObjectItemCaseSensitive(item, "shape")) < 0) return -1;
  return parse_offsets(path, e, cJSON_GetObjectItemCaseSensitive(item, "data_offsets"));
}

/* The keys of object o, for the duplicate check (cJSON keeps duplicates as separate items). */
static int check_unique_keys(const char *path, const cJSON *o, const char *what) {
  int n = cJSON_GetArraySize(o);
  const char **keys = malloc((size_t)(n ? n : 1) * sizeof *keys);
  if (!keys) return nn_errc("%s: out of memory", path);
  int k = 0;
  for (const cJSON *x = o->child; x; x = x->next) keys[k++] = x->string;
  bool oom;
  const char *dup = find_duplicate(keys, n, &oom);
  int r = oom   ? nn_errc("%s: out of memory", path)
          : dup ? nn_errc("%s: %s \"%.80s\" appears twice in the header", path, what, dup)
                : 0;
  free(keys);
  return r;
}

static char *dup_string(const char *s) {
  size_t n = strlen(s) + 1;
  char *c = malloc(n);
  return c ? memcpy(c, s, n) : NULL;
}

static int parse_metadata(const char *path, const cJSON *meta, nn_st_file *out) {
  if (cJSON_IsNull(meta)) return 0;
  if (!cJSON_IsObject(meta)) return nn_errc("%s: \"%s\" is not a JSON object", path, METADATA);
  if (check_unique_keys(path, meta, "metadata key") < 0) return -1;
  int n = cJSON_GetArraySize(meta);
  out->meta_keys = calloc((size_t)n + 1, sizeof *out->meta_keys);
  out->meta_values = calloc((size_t)n + 1, sizeof *out->meta_values);
  if (!out->meta_keys || !out->meta_values) return nn_errc("%s: out of memory", path);
  for (const cJSON *x = meta->child; x; x = x->next) {
    if (!cJSON_IsString(x))
      return nn_errc("%s: metadata value for \"%.80s\" is not a string", path, x->string);
    int k = out->nmeta++;
    out->meta_keys[k] = dup_string(x->string);
    out->meta_values[k] = dup_string(x->valuestring);
    if (!out->meta_keys[k] || !out->meta_values[k]) return nn_errc("%s: out of memory", path);
  }
  return 0;
}

/* Fills e (room for every key of root) with the tensors, out with the metadata. */
static int parse_entries(const char *path, const cJSON *root, entry *e, int *n, nn_st_file *out) {
  if (check_unique_keys(path, root, "name") < 0) return -1;
  *n = 0;
  for (const cJSON *x = root->child; x; x = x->next) {
    if (strcmp(x->string, METADATA) == 0) {
      if (parse_metadata(path, x, out) < 0) return -1;
    } else if (parse_entry(path, x, &e[(*n)++]) < 0) {
      return -1;
    }
  }
  return 0;
}

static int compare_offsets(const void *a, const void *b) {
  const entry *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* Sorted by offset, the tensors must cover [0, data_size) with no gap and no overlap. */
static int check_tiling(const char *path, entry *e, int n, int64_t data_size) {
  qsort(e, (size_t)n, sizeof *e, compare_offsets);
  int64_t at = 0;
  for (int i = 0; i < n; i++) {
    if (e[i].begin > at)
      return nn_errc("%s: gap in the data: bytes [%lld, %lld) belong to no tensor (before "
                     "\"%.80s\")",
                     path, (long long)at, (long long)e[i].begin, e[i].name);
    if (e[i].begin < at)
      return nn_errc("%s: tensors \"%.80s\" and \"%.80s\" overlap (bytes [%lld, %lld))", path,
                     e[i - 1].name, e[i].name, (long long)e[i].begin, (long long)at);
    at = e[i].end;
  }
  if (at > data_size)
    return nn_errc("%s: data_offsets reach byte %lld but the file holds %lld bytes of data "
                   "(truncated?)",
                   path, (long long)at, (long long)data_size);
  if (at < data_size)
    return nn_errc("%s: %lld trailing bytes after the last tensor's data", path,
                   (long long)(data_size - at));
  return 0;
}

/* The tensors, in offset order: the file position is at the start of the data. */
static int read_tensors(FILE *f, const char *path, const entry *e, int n, nn_st_file *out) {
  out->names = calloc((size_t)n + 1, sizeof *out->names);
  out->tensors = calloc((size_t)n + 1, sizeof *out->tensors);
  if (!out->names || !out->tensors) return nn_errc("%s: out of memory", path);
  for (int i = 0; i < n; i++) {
    out->names[i] = dup_string(e[i].name);
    if (!out->names[i]) return nn_errc("%s: out of memory", path);
    out->tensors[i] = nn_raw_read(f, path, e[i].raw, false, e[i].ndim, e[i].shape);
    if (!out->tensors[i]) return -1;
    out->n = i + 1;
  }
  return 0;
}

int nn_safetensors_load(const char *path, nn_st_file *out) {
  memset(out, 0, sizeof *out);
  int64_t size, hlen = 0;
  FILE *f = nn_reader_open(path, &size);
  if (!f) return -1;
  char *text = read_header(f, path, size, &hlen);
  cJSON *root = text ? parse_header(path, text, hlen) : NULL;
  entry *e = root ? calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof *e) : NULL;
  int n = 0, r = -1;
  if (root && !e)
    nn_errc("%s: out of memory", path);
  else if (e && parse_entries(path, root, e, &n, out) == 0 &&
           check_tiling(path, e, n, size - 8 - hlen) == 0)
    r = read_tensors(f, path, e, n, out);
  free(e);
  cJSON_Delete(root);
  free(text);
  fclose(f);
  if (r < 0) nn_st_file_free(out);
  return r;
}

void nn_st_file_free(nn_st_file *f) {
  for (int i = 0; f->names && f->names[i]; i++) free(f->names[i]);
  for (int i = 0; f->tensors && f->tensors[i]; i++) nn_release(f->tensors[i]);
  for (int i = 0; f->meta_keys && f->meta_keys[i]; i++) free(f->meta_keys[i]);
  for (int i = 0; f->meta_values && f->meta_values[i]; i++) free(f->meta_values[i]);
  free(f->names);
  free(f->tensors);
  free(f->meta_keys);
  free(f->meta_values);
  memset(f, 0, sizeof *f);
}
