/*
** nn/format.c: tensors as text (see format.h for what it looks like).
**
** Three passes over the shown elements only: gather magnitudes to pick the number style,
** measure the widest string to align the columns, then print. A summarized dim shows its
** first and last edgeitems indices with "…" between them; nothing else is read, so the
** cost depends on what is shown, not on the tensor's size.
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/format.h"

static const char ELLIPSIS[] = "…"; /* 3 bytes, 1 column */
enum { GAP = -1 };                  /* a slot that shows "…" instead of an index */

/* ---- a growing string ---- */

typedef struct strbuf {
  char *s;
  size_t len, cap;
  bool failed;
} strbuf;

static void put(strbuf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *grown = realloc(b->s, cap);
    if (!grown) {
      b->failed = true;
      return;
    }
    b->s = grown;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = 0;
}

static void puts_(strbuf *b, const char *s) {
  put(b, s, strlen(s));
}

static void putf(strbuf *b, const char *fmt, ...) NN_PRINTF(2, 3);
static void putf(strbuf *b, const char *fmt, ...) {
  char buf[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0) put(b, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void spaces(strbuf *b, int n) {
  for (; n > 0; n--) put(b, " ", 1);
}

/* ---- the printer ---- */

typedef enum style {
  INTEGER,    /* i64, u8: exact integers */
  FIXED,      /* %.4f */
  SCALED,     /* %.4f of v / 10^e, under a line "1e-03 *" */
  SCIENTIFIC, /* %.4e */
} style;

typedef struct printer {
  const nn_tensor *t;
  int64_t edge;
  bool summarize;
  int linewidth, precision;
  style style;
  int exponent; /* SCALED: values are shown divided by 10^exponent */
  double scale;
  int width; /* of a column: the widest element without its '-', plus a sign slot */
  /* magnitudes of the shown finite, nonzero values */
  double amax, amin;
  int64_t nonzero, shown;
  bool all_integer;
  strbuf out;
} printer;

/* ---- which indices are shown ---- */

static bool is_cut(const printer *p, int d) {
  return p->summarize && p->t->shape[d] > 2 * p->edge;
}

/* The shown index after i along dim d (shape[d] when none is left). */
static int64_t next_shown(const printer *p, int d, int64_t i) {
  return is_cut(p, d) && i + 1 == p->edge ? p->t->shape[d] - p->edge : i + 1;
}

/* Whether shown index i along d is the first after the "…". */
static bool after_cut(const printer *p, int d, int64_t i) {
  return is_cut(p, d) && i == p->t->shape[d] - p->edge;
}

/* Calls visit on every shown element, in row-major order. */
static void each_shown(printer *p, void (*visit)(printer *, const void *)) {
  const nn_tensor *t = p->t;
  int64_t idx[NN_MAXDIM] = {0};
  for (;;) {
    visit(p, nn_at(t, idx));
    int d = t->ndim - 1;
    for (; d >= 0; d--) {
      idx[d] = next_shown(p, d, idx[d]);
      if (idx[d] < t->shape[d]) break;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/* The shown indices of dim d, with GAP where the "…" goes; NULL when out of memory. */
static int64_t *shown_slots(printer *p, int d, int64_t *count) {
  int64_t n = is_cut(p, d) ? 2 * p->edge + 1 : p->t->shape[d];
  int64_t *slot = malloc((size_t)n * sizeof *slot);
  if (!slot) {
    p->out.failed = true;
    return NULL;
  }
  int64_t k = 0;
  for (int64_t i = 0; i < p->t->shape[d]; i = next_shown(p, d, i)) {
    if (after_cut(p, d, i)) slot[k++] = GAP;
    slot[k++] = i;
  }
  *count = k;
  return slot;
}

/* ---- choosing the number style ---- */

static void gather(printer *p, const void *e) {
  double v = nn_load(e, p->t->dtype);
  p->shown++;
  if (!isfinite(v) || v == 0) return;
  double a = fabs(v);
  if (p->nonzero++ == 0 || a > p->amax) p->amax = a;
  if (p->nonzero == 1 || a < p->amin) p->amin = a;
  p->all_integer = p->all_integer && v == floor(v);
}

/* Torch7's rules, roughly: plain fixed point for magnitudes 0.1 to 99999 (and whole numbers
   up to 1e8, printed without decimals); a common factor 10^e when all values are alike but
   large or small; scientific when they spread over five or more decades. */
static void choose_style(printer *p) {
  if (!nn_dtype_is_float(p->t->dtype)) {
    p->style = INTEGER;
    return;
  }
  p->all_integer = true;
  each_shown(p, gather);
  p->style = FIXED;
  if (p->nonzero == 0 || (p->all_integer && p->amax < 1e8)) {
    p->precision = 0; /* whole numbers read best as they are: 1  2  3 */
    return;
  }
  int emax = (int)floor(log10(p->amax)), emin = (int)floor(log10(p->amin));
  if (emax - emin >= 5) {
    p->style = SCIENTIFIC;
  } else if (emax >= 5 || emax <= -2) {
    p->exponent = emax;
    p->scale = pow(10, emax);
    /* a lone "1e-03 *" line reads badly, and 10^-324 is no double */
    p->style = p->shown == 1 || !isnormal(p->scale) ? SCIENTIFIC : SCALED;
  }
}

/* The element's string in buf (64 bytes); returns its length. */
static int element_str(const printer *p, const void *e, char *buf) {
  enum { N = 64 };
  int n;
  double v = p->style == INTEGER ? 0 : nn_load(e, p->t->dtype);
  if (p->style == INTEGER)
    n = snprintf(buf, N, "%lld", (long long)nn_load_i64(e, p->t->dtype));
  else if (isnan(v))
    n = snprintf(buf, N, "nan");
  else if (isinf(v))
    n = snprintf(buf, N, v < 0 ? "-inf" : "inf");
  else if (p->style == SCIENTIFIC)
    n = snprintf(buf, N, "%.*e", p->precision, v);
  else
    n = snprintf(buf, N, "%.*f", p->precision, p->style == SCALED ? v / p->scale : v);
  return n < 0 ? 0 : n < N ? n : N - 1;
}

static void measure(printer *p, const void *e) {
  char buf[64];
  int n = element_str(p, e, buf);
  if (buf[0] != '-') n++;
  if (n > p->width) p->width = n;
}

/* ---- printing ---- */

/* Columns as in Torch7: right-aligned, a sign slot always kept, one space between. */
static void put_element(printer *p, const void *e) {
  char buf[64];
  int n = element_str(p, e, buf);
  spaces(&p->out, p->width - n);
  put(&p->out, buf, (size_t)n);
}

static int slot_width(const printer *p, int64_t slot) {
  return slot == GAP ? 1 : p->width;
}

/* The end of the chunk of slots that starts at start and fits the line width. A chunk takes
   at least one slot, and a "…" stays with the columns before it. */
static int64_t chunk_end(const printer *p, const int64_t *slot, int64_t n, int64_t start) {
  int64_t end = start;
  for (int used = 0; end < n; end++) {
    int w = slot_width(p, slot[end]) + (end > start); /* and the space before it */
    if (end > start && slot[end] != GAP && used + w > p->linewidth) break;
    used += w;
  }
  return end;
}

/* Elements idx with idx[d] running over slots, on one line. */
static void put_row(printer *p, int64_t *idx, int d, const int64_t *slot, int64_t n) {
  for (int64_t k = 0; k < n; k++) {
    if (k > 0) puts_(&p->out, " ");
    if (slot[k] == GAP) {
      puts_(&p->out, ELLIPSIS);
    } else {
      idx[d] = slot[k];
      put_element(p, nn_at(p->t, idx));
    }
  }
  puts_(&p->out, "\n");
}

/* The line standing for the rows left out: "…" under every column. */
static void put_gap_row(printer *p, const int64_t *slot, int64_t n) {
  for (int64_t k = 0; k < n; k++) {
    spaces(&p->out, slot_width(p, slot[k]) - 1 + (k > 0));
    puts_(&p->out, ELLIPSIS);
  }
  puts_(&p->out, "\n");
}

/* "Columns 1 to 8" (1-based) over the real indices among slot[0..n). */
static void put_columns_header(printer *p, const int64_t *slot, int64_t n) {
  int64_t last = n - 1;
  while (last > 0 && slot[last] == GAP) last--;
  if (slot[0] == slot[last])
    putf(&p->out, "Column %lld\n", (long long)slot[0] + 1);
  else
    putf(&p->out, "Columns %lld to %lld\n", (long long)slot[0] + 1, (long long)slot[last] + 1);
}

/* A 1-D tensor: its elements on as many lines as the width needs. */
static void put_vector(printer *p) {
  int64_t n, idx[NN_MAXDIM] = {0};
  int64_t *slot = shown_slots(p, 0, &n);
  if (!slot) return;
  for (int64_t start = 0, end; start < n; start = end) {
    end = chunk_end(p, slot, n, start);
    put_row(p, idx, 0, slot + start, end - start);
  }
  free(slot);
}

/* The matrix over the last two dims, at the leading indices in idx. */
static void put_matrix(printer *p, int64_t *idx) {
  int r = p->t->ndim - 2, c = p->t->ndim - 1;
  int64_t n;
  int64_t *slot = shown_slots(p, c, &n);
  if (!slot) return;
  for (int64_t start = 0, end; start < n; start = end) {
    end = chunk_end(p, slot, n, start);
    if (start > 0) puts_(&p->out, "\n");
    if (start > 0 || end < n) put_columns_header(p, slot + start, end - start);
    for (int64_t i = 0; i < p->t->shape[r]; i = next_shown(p, r, i)) {
      if (after_cut(p, r, i)) put_gap_row(p, slot + start, end - start);
      idx[r] = i;
      put_row(p, idx, c, slot + start, end - start);
    }
  }
  free(slot);
}

/* "(2,1,.,.) =": the 1-based leading indices of a slice. */
static void put_slice_header(printer *p, const int64_t *idx, int lead) {
  puts_(&p->out, "(");
  for (int d = 0; d < lead; d++) putf(&p->out, "%lld,", (long long)idx[d] + 1);
  puts_(&p->out, ".,.) =\n");
}

/* 3-D and up: a matrix per shown slice, a "…" line where slices are left out. */
static void put_slices(printer *p) {
  const nn_tensor *t = p->t;
  int lead = t->ndim - 2;
  int64_t idx[NN_MAXDIM] = {0};
  for (;;) {
    put_slice_header(p, idx, lead);
    put_matrix(p, idx);
    int d = lead - 1;
    for (; d >= 0; d--) {
      idx[d] = next_shown(p, d, idx[d]);
      if (idx[d] < t->shape[d]) break;
      idx[d] = 0;
    }
    if (d < 0 || p->out.failed) return;
    puts_(&p->out, "\n");
    if (after_cut(p, d, idx[d])) putf(&p->out, "%s\n\n", ELLIPSIS);
  }
}

static void put_body(printer *p) {
  const nn_tensor *t = p->t;
  if (p->style == SCALED) putf(&p->out, "1e%+03d *\n", p->exponent);
  if (t->ndim == 0) {
    char buf[64];
    put(&p->out, buf, (size_t)element_str(p, nn_data(t), buf));
    puts_(&p->out, "\n");
  } else if (t->ndim == 1) {
    put_vector(p);
  } else if (t->ndim == 2) {
    int64_t idx[NN_MAXDIM] = {0};
    put_matrix(p, idx);
  } else {
    put_slices(p);
  }
}

/* Whether t has more than n elements (no overflow for any shape). */
static bool more_than(const nn_tensor *t, int64_t n) {
  int64_t count = 1;
  for (int d = 0; d < t->ndim; d++)
    if (t->shape[d] == 0) return false;
  for (int d = 0; d < t->ndim; d++) {
    if (t->shape[d] > n / count) return true;
    count *= t->shape[d];
  }
  return false;
}

static int positive_or(int64_t v, int64_t fallback) {
  return (int)(v > 0 ? v : fallback);
}

char *nn_format(const nn_tensor *t, const nn_format_opts *o) {
  nn_format_opts opts = o ? *o : (nn_format_opts){0};
  int64_t threshold = opts.threshold > 0 ? opts.threshold : 1000;
  printer p = {.t = t,
               .edge = positive_or(opts.edgeitems, 3),
               .linewidth = positive_or(opts.linewidth, 80),
               .precision = positive_or(opts.precision, 4)};
  if (p.precision > 16) p.precision = 16;
  p.summarize = more_than(t, threshold);
  bool empty = false;
  for (int d = 0; d < t->ndim; d++) empty = empty || t->shape[d] == 0;
  if (!empty) {
    choose_style(&p);
    each_shown(&p, measure);
    put_body(&p);
  }
  putf(&p.out, "[%s ", nn_dtype_name(t->dtype));
  puts_(&p.out, t->ndim == 0 ? "scalar" : "tensor of shape ");
  if (t->ndim > 0) puts_(&p.out, nn_shape_str(t));
  if (opts.suffix) {
    puts_(&p.out, ", ");
    puts_(&p.out, opts.suffix);
  }
  puts_(&p.out, "]");
  if (p.out.failed) {
    free(p.out.s);
    return nn_err("out of memory formatting a tensor of shape %s", nn_shape_str(t));
  }
  return p.out.s;
}
