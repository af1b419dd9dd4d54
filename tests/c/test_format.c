/* tests/c/test_format.c: the pretty-printer: exact strings for small tensors, number styles,
   summarization, wrapping, and odd shapes that must never crash. */
#include <stdlib.h>
#include <string.h>

#include "nn/format.h"
#include "test.h"

/* Whether t formats (with o) to exactly want; prints both when not. */
static bool formats_as(const nn_tensor *t, const nn_format_opts *o, const char *want) {
  char *got = nn_format(t, o);
  bool same = got && strcmp(got, want) == 0;
  if (!same) fprintf(stderr, "  got:\n%s\n  want:\n%s\n", got ? got : "(null)", want);
  free(got);
  return same;
}

static int count_lines(const char *s) {
  int n = 1;
  for (; *s; s++) n += *s == '\n';
  return n;
}

/* The widest line but the last (the shape line, which never wraps), in display columns
   (UTF-8 continuation bytes take none). */
static int widest_line(const char *s) {
  int widest = 0, w = 0;
  for (const char *last = strrchr(s, '\n'); *s && s < last; s++) {
    bool newline = *s == '\n', continuation = ((unsigned char)*s & 0xC0) == 0x80;
    w = newline ? 0 : w + !continuation;
    if (w > widest) widest = w;
  }
  return widest;
}

TEST(format_small_exact) {
  nn_tensor *m = test_tensor(NN_F32, 2, (int64_t[]){2, 3}, (double[]){1, 2.5, -3, 4, 5, 6});
  CHECK(formats_as(m, NULL,
                   " 1.0000  2.5000 -3.0000\n"
                   " 4.0000  5.0000  6.0000\n"
                   "[f32 tensor of shape {2,3}]"));
  nn_tensor *mt = nn_transpose(m, 0, 1); /* a strided view prints its logical order */
  CHECK(formats_as(mt, NULL,
                   " 1.0000  4.0000\n"
                   " 2.5000  5.0000\n"
                   "-3.0000  6.0000\n"
                   "[f32 tensor of shape {3,2}]"));
  nn_tensor *v = test_tensor(NN_F64, 1, (int64_t[]){3}, (double[]){0.25, 0.5, 1});
  CHECK(formats_as(v, &(nn_format_opts){.suffix = "grad_fn=mul"},
                   " 0.2500  0.5000  1.0000\n"
                   "[f64 tensor of shape {3}, grad_fn=mul]"));
  nn_release(m), nn_release(mt), nn_release(v);
}

TEST(format_integers) {
  nn_tensor *i = nn_empty(NN_I64, 2, (int64_t[]){2, 2});
  int64_t *p = (int64_t *)nn_data(i);
  p[0] = 9007199254740993, p[1] = -1, p[2] = 0, p[3] = INT64_MIN; /* beyond double's 2^53 */
  CHECK(formats_as(i, NULL,
                   "    9007199254740993                   -1\n"
                   "                   0 -9223372036854775808\n"
                   "[i64 tensor of shape {2,2}]"));
  nn_tensor *u = test_tensor(NN_U8, 1, (int64_t[]){4}, (double[]){0, 7, 200, 255});
  CHECK(formats_as(u, NULL, "   0    7  200  255\n[u8 tensor of shape {4}]"));
  nn_release(i), nn_release(u);
}

TEST(format_scalars_and_empty) {
  nn_tensor *s = nn_scalar(NN_F32, 3.14159), *small = nn_scalar(NN_F64, -0.00123);
  nn_tensor *l = nn_scalar(NN_I64, 42);
  CHECK(formats_as(s, NULL, "3.1416\n[f32 scalar]"));
  CHECK(formats_as(s, &(nn_format_opts){.suffix = "grad_fn=sum"},
                   "3.1416\n[f32 scalar, grad_fn=sum]"));
  CHECK(formats_as(small, NULL, "-1.2300e-03\n[f64 scalar]"));
  CHECK(formats_as(l, NULL, "42\n[i64 scalar]"));
  nn_tensor *e = nn_zeros(NN_F32, 2, (int64_t[]){0, 3});
  nn_tensor *e3 = nn_zeros(NN_U8, 3, (int64_t[]){2, 0, 1000000});
  CHECK(formats_as(e, NULL, "[f32 tensor of shape {0,3}]"));
  CHECK(formats_as(e3, NULL, "[u8 tensor of shape {2,0,1000000}]"));
  nn_release(s), nn_release(small), nn_release(l), nn_release(e), nn_release(e3);
}

TEST(format_number_styles) {
  nn_tensor *scaled =
      test_tensor(NN_F64, 2, (int64_t[]){2, 2}, (double[]){0.001, -0.0025, 0.004, 0});
  CHECK(formats_as(scaled, NULL,
                   "1e-03 *\n"
                   " 1.0000 -2.5000\n"
                   " 4.0000  0.0000\n"
                   "[f64 tensor of shape {2,2}]"));
  nn_tensor *large = test_tensor(NN_F32, 1, (int64_t[]){2}, (double[]){123456.5, 250000});
  CHECK(formats_as(large, NULL, "1e+05 *\n 1.2346  2.5000\n[f32 tensor of shape {2}]"));
  nn_tensor *wide = test_tensor(NN_F64, 1, (int64_t[]){3}, (double[]){1e-3, -2e3, 5});
  CHECK(formats_as(wide, NULL,
                   " 1.0000e-03 -2.0000e+03  5.0000e+00\n"
                   "[f64 tensor of shape {3}]"));
  nn_tensor *ints = test_tensor(NN_F32, 1, (int64_t[]){3}, (double[]){1, 100000, -7});
  CHECK(formats_as(ints, NULL,
                   "      1  100000      -7\n"
                   "[f32 tensor of shape {3}]"));
  nn_tensor *special =
      test_tensor(NN_F64, 2, (int64_t[]){2, 2}, (double[]){NAN, INFINITY, -INFINITY, 0.5});
  CHECK(formats_as(special, NULL,
                   "    nan     inf\n"
                   "   -inf  0.5000\n"
                   "[f64 tensor of shape {2,2}]"));
  nn_tensor *tiny = test_tensor(NN_F64, 1, (int64_t[]){2}, (double[]){5e-324, -5e-324});
  CHECK(formats_as(tiny, NULL, " 4.9407e-324 -4.9407e-324\n[f64 tensor of shape {2}]"));
  nn_release(tiny);
  nn_tensor *zeros = nn_zeros(NN_F32, 1, (int64_t[]){2});
  CHECK(formats_as(zeros, &(nn_format_opts){.precision = 2},
                   " 0  0\n[f32 tensor of shape {2}]")); /* whole numbers: no decimals */
  nn_tensor *all[] = {scaled, large, wide, ints, special, zeros};
  for (size_t k = 0; k < sizeof all / sizeof *all; k++) nn_release(all[k]);
}

TEST(format_slices) {
  double v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  nn_tensor *t = test_tensor(NN_I64, 3, (int64_t[]){2, 2, 2}, v);
  CHECK(formats_as(t, NULL,
                   "(1,.,.) =\n"
                   " 1  2\n"
                   " 3  4\n"
                   "\n"
                   "(2,.,.) =\n"
                   " 5  6\n"
                   " 7  8\n"
                   "[i64 tensor of shape {2,2,2}]"));
  nn_tensor *t4 = nn_view(t, 4, (int64_t[]){2, 1, 2, 2});
  char *s = nn_format(t4, NULL);
  CHECK(s && strstr(s, "(1,1,.,.) =\n") && strstr(s, "(2,1,.,.) =\n"));
  free(s);
  nn_release(t), nn_release(t4);
}

TEST(format_summarized) {
  nn_tensor *big = nn_zeros(NN_F32, 2, (int64_t[]){1000, 1000});
  char *s = nn_format(big, NULL);
  REQUIRE(s);
  CHECK(count_lines(s) == 8 && strstr(s, "…") && strstr(s, "{1000,1000}"));
  const char *row = " 0  0  0 …  0  0  0\n";
  CHECK(strncmp(s, row, strlen(row)) == 0);
  free(s);
  /* the threshold and edgeitems options, and the real indices of the slices shown */
  double v[100];
  for (int i = 0; i < 100; i++) v[i] = i;
  nn_tensor *t = test_tensor(NN_I64, 3, (int64_t[]){25, 2, 2}, v);
  nn_tensor *sel = nn_select(t, 2, 0);
  CHECK(formats_as(sel, &(nn_format_opts){.threshold = 10, .edgeitems = 1},
                   "  0   2\n"
                   "  …   …\n"
                   " 96  98\n"
                   "[i64 tensor of shape {25,2}]"));
  s = nn_format(t, &(nn_format_opts){.threshold = 10, .edgeitems = 1});
  CHECK(s && strstr(s, "(1,.,.) =\n  0   1\n  2   3\n\n…\n\n(25,.,.) =\n 96  97\n"));
  free(s);
  nn_tensor *line = nn_zeros(NN_U8, 1, (int64_t[]){5000});
  CHECK(formats_as(line, NULL, " 0  0  0 …  0  0  0\n[u8 tensor of shape {5000}]"));
  nn_release(big), nn_release(t), nn_release(sel), nn_release(line);
}

TEST(format_wraps_columns) {
  double v[40];
  for (int i = 0; i < 40; i++) v[i] = i - 20.5;
  nn_tensor *t = test_tensor(NN_F32, 2, (int64_t[]){2, 20}, v);
  char *s = nn_format(t, &(nn_format_opts){.linewidth = 40});
  REQUIRE(s);
  CHECK(widest_line(s) <= 40);
  CHECK(strstr(s, "Columns 1 to 4\n-20.5000 -19.5000 -18.5000 -17.5000\n"));
  CHECK(strstr(s, "\n\nColumns 17 to 20\n"));
  free(s);
  nn_tensor *one = nn_narrow(t, 1, 0, 5);
  CHECK(formats_as(one, &(nn_format_opts){.linewidth = 1},
                   "Column 1\n-20.5000\n -0.5000\n\nColumn 2\n-19.5000\n  0.5000\n\n"
                   "Column 3\n-18.5000\n  1.5000\n\nColumn 4\n-17.5000\n  2.5000\n\n"
                   "Column 5\n-16.5000\n  3.5000\n[f32 tensor of shape {2,5}]"));
  nn_tensor *big = nn_full(NN_F64, 2, (int64_t[]){100, 100}, 0.5);
  s = nn_format(big, &(nn_format_opts){.linewidth = 20});
  CHECK(s && widest_line(s) <= 20 && strstr(s, "Columns 1 to 2\n") &&
        strstr(s, "Columns 3 to 98\n") && strstr(s, "Columns 99 to 100\n"));
  free(s);
  nn_release(t), nn_release(one), nn_release(big);
}

/* Shapes that stress the printer: every rank up to 8, views with zero strides and element
   counts far beyond memory (only the shown corners are read). */
TEST(format_never_crashes) {
  nn_tensor *one = nn_scalar(NN_F32, 1.5);
  for (int nd = 0; nd <= NN_MAXDIM; nd++) {
    int64_t shape[NN_MAXDIM];
    for (int d = 0; d < nd; d++) shape[d] = d % 2 ? 3 : 1;
    nn_tensor *t = nn_zeros(NN_F64, nd, shape);
    char *s = nn_format(t, NULL);
    CHECK(s && strstr(s, nd ? "[f64 tensor of shape {" : "[f64 scalar]"));
    free(s);
    nn_release(t);
  }
  int64_t huge[NN_MAXDIM];
  for (int d = 0; d < NN_MAXDIM; d++) huge[d] = 100000;
  /* 10^40 elements: more than a view may count (as PyTorch, an error) */
  nn_tensor *e = nn_expand(one, NN_MAXDIM, huge);
  CHECK(!e && strstr(nn_errmsg(), "more than 2^63 elements"));
  for (int d = 0; d < NN_MAXDIM; d++) huge[d] = 200; /* 2.56e18: fits */
  e = nn_expand(one, NN_MAXDIM, huge);
  REQUIRE(e);
  char *s = nn_format(e, &(nn_format_opts){.edgeitems = 1});
  CHECK(s && strstr(s, "\n…\n\n(200,200,200,200,200,200,.,.) =\n"
                       " 1.5000 …  1.5000\n      … …       …\n 1.5000 …  1.5000\n[f32 "));
  /* 64 slices of a header and 3 rows, "…" between every two, the shape line */
  CHECK(s && count_lines(s) == 64 * 4 + 63 * 3 + 1);
  free(s);
  nn_tensor *col = nn_expand(one, 2, (int64_t[]){1LL << 40, 1});
  CHECK(formats_as(col, NULL,
                   " 1.5000\n 1.5000\n 1.5000\n      …\n 1.5000\n 1.5000\n 1.5000\n"
                   "[f32 tensor of shape {1099511627776,1}]"));
  nn_release(one), nn_release(e), nn_release(col);
}
