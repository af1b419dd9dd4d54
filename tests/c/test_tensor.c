/* tests/c/test_tensor.c: storage, views, copies, broadcasting, elementwise ops. */
#include <string.h>

#include "nn/pool.h"
#include "nn/stream.h"
#include "test.h"

static nn_tensor *arange(int64_t n) {
  nn_tensor *t = nn_empty(NN_F32, 1, (int64_t[]){n});
  for (int64_t i = 0; i < n; i++) ((float *)nn_data(t))[i] = (float)i;
  return t;
}

TEST(create_and_fill) {
  nn_tensor *t = nn_full(NN_F64, 2, (int64_t[]){2, 3}, 1.5);
  REQUIRE(t);
  CHECK(nn_numel(t) == 6 && nn_is_contiguous(t));
  CHECK(test_get(t, 5) == 1.5);
  CHECK(strcmp(nn_shape_str(t), "{2,3}") == 0);
  nn_release(t);
  CHECK(nn_empty(NN_F32, 1, (int64_t[]){-1}) == NULL);
  CHECK(strstr(nn_errmsg(), "negative"));
  CHECK(nn_empty(NN_F32, 2, (int64_t[]){1LL << 40, 1LL << 40}) == NULL);
  CHECK(strstr(nn_errmsg(), "too large"));
}

TEST(views_share_storage) {
  nn_tensor *t = arange(6);
  nn_tensor *m = nn_view(t, 2, (int64_t[]){2, 3});
  REQUIRE(m);
  nn_tensor *tt = nn_transpose(m, 0, 1);
  CHECK(!nn_is_contiguous(tt) && tt->shape[0] == 3 && test_get(tt, 1) == 3);
  CHECK(nn_view(tt, 1, (int64_t[]){6}) == NULL); /* needs a copy */
  nn_tensor *r = nn_reshape(tt, 1, (int64_t[]){6});
  REQUIRE(r);
  CHECK(test_get(r, 1) == 3 && test_get(r, 5) == 5);
  nn_tensor *row = nn_select(m, 0, 1);
  CHECK(row->ndim == 1 && test_get(row, 0) == 3);
  nn_tensor *col = nn_narrow(m, 1, 1, 2);
  CHECK(col->shape[1] == 2 && test_get(col, 2) == 4);
  CHECK(nn_select(m, 0, 2) == NULL && nn_narrow(m, 1, 2, 2) == NULL);
  nn_tensor *u = nn_unsqueeze(m, 1);
  CHECK(u->ndim == 3 && u->shape[1] == 1);
  nn_tensor *sq = nn_squeeze(u, -1);
  CHECK(nn_same_shape(sq, m));
  nn_tensor *e = nn_expand(row, 2, (int64_t[]){4, 3});
  CHECK(e && e->stride[0] == 0 && test_get(e, 10) == 4);
  nn_tensor *bad = nn_expand(row, 2, (int64_t[]){4, 2});
  CHECK(bad == NULL && strstr(nn_errmsg(), "cannot expand"));
  nn_tensor *all[] = {t, m, tt, r, row, col, u, sq, e};
  for (size_t k = 0; k < sizeof all / sizeof *all; k++) nn_release(all[k]);
}

/* A tensor's header, storage and (small) data are one block: a view must keep it alive
   after the tensor is released, for small (inline data) and large tensors alike. */
TEST(views_outlive_their_tensor) {
  for (int64_t n = 4; n <= 4096; n *= 32) {
    nn_tensor *t = arange(n), *v = nn_narrow(t, 0, 1, n - 1);
    REQUIRE(v);
    nn_release(t);
    CHECK(v->storage->refs == 1 && test_get(v, n - 2) == (double)(n - 1));
    nn_tensor *w = nn_select(v, 0, 0);
    nn_release(v);
    CHECK(test_get(w, 0) == 1);
    nn_release(w);
  }
}

TEST(conversions) {
  nn_tensor *t = arange(4);
  nn_tensor *i = nn_to(t, NN_I64), *d = nn_to(i, NN_F64);
  CHECK(i->dtype == NN_I64 && ((int64_t *)nn_data(i))[3] == 3);
  CHECK(d->dtype == NN_F64 && test_get(d, 2) == 2.0);
  nn_release(t), nn_release(i), nn_release(d);
}

TEST(binary_broadcast) {
  nn_tensor *flat = arange(6), *a = nn_view(flat, 2, (int64_t[]){2, 3});
  nn_tensor *b = arange(3), *four = arange(4);
  nn_tensor *c = nn_add(a, b);
  REQUIRE(c);
  CHECK(nn_same_shape(c, a) && test_get(c, 4) == 5 && test_get(c, 5) == 7);
  nn_tensor *two = arange(2), *col = nn_view(two, 2, (int64_t[]){2, 1});
  nn_tensor *o = nn_mul(col, b);
  CHECK(o && o->shape[0] == 2 && o->shape[1] == 3 && test_get(o, 5) == 2);
  nn_tensor *bad = nn_add(a, four);
  CHECK(bad == NULL && strstr(nn_errmsg(), "cannot be broadcast"));
  nn_tensor *m = nn_gt(a, b);
  CHECK(m->dtype == NN_U8 && test_get(m, 3) == 1 && test_get(m, 0) == 0);
  nn_tensor *all[] = {flat, a, b, four, c, two, col, o, m};
  for (size_t k = 0; k < sizeof all / sizeof *all; k++) nn_release(all[k]);
}

TEST(unary_and_inplace) {
  nn_tensor *x = arange(5);
  nn_tensor *two = nn_scalar(NN_F32, 2);
  nn_tensor *y = nn_sub(x, two);
  nn_tensor *r = nn_relu(y);
  CHECK(test_get(r, 0) == 0 && test_get(r, 4) == 2);
  CHECK(nn_call_into(&nn_op_add, y, (nn_tensor *[]){y, two}, NULL) == 0);
  CHECK(test_get(y, 0) == 0);
  nn_tensor *ix = nn_to(x, NN_I64);
  nn_tensor *e = nn_exp(ix);
  CHECK(e->dtype == NN_F32 && fabs(test_get(e, 1) - exp(1.0)) < 1e-6);
  CHECK(nn_call_into(&nn_op_exp, ix, &ix, NULL) < 0 && strstr(nn_errmsg(), "in place"));
  nn_tensor *cl = nn_clamp(x, 1, 3);
  CHECK(test_get(cl, 0) == 1 && test_get(cl, 4) == 3);
  nn_release(x), nn_release(two), nn_release(y), nn_release(r), nn_release(ix), nn_release(e);
  nn_release(cl);
}

/* Large pointwise ops are split among the pool's threads: every piece must be right,
   including the elements at the pieces' borders. */
/* Large outputs are split among the pool's threads and streamed past the caches: every
   element must still be right, whatever the dtype, with a number operand, in place. */
TEST(parallel_pointwise) {
  int64_t n = 1000003, nbig = 3000017;
  nn_tensor *a = nn_empty(NN_F64, 1, &n), *b = nn_empty(NN_F64, 1, &n);
  for (int64_t i = 0; i < n; i++)
    ((double *)nn_data(a))[i] = (double)i, ((double *)nn_data(b))[i] = 1;
  nn_tensor *two = nn_scalar(NN_F64, 2), *c = nn_add(a, b), *d = nn_mul(a, two);
  REQUIRE(c && d);
  int bad = 0;
  for (int64_t i = 0; i < n; i++)
    bad += test_get(c, i) != (double)i + 1 || test_get(d, i) != 2.0 * (double)i;
  CHECK(bad == 0);
  REQUIRE(nn_call_into(&nn_op_add, a, (nn_tensor *[]){a, b}, NULL) == 0);
  for (int64_t i = 0; i < n; i++) bad += test_get(a, i) != (double)i + 1;
  CHECK(bad == 0);
  nn_tensor *x = nn_empty(NN_F32, 1, &nbig), *half = nn_scalar(NN_F32, 0.5);
  for (int64_t i = 0; i < nbig; i++) ((float *)nn_data(x))[i] = (float)(i % 3) / 2;
  nn_tensor *gt = nn_gt(x, half); /* a u8 output of 3 MB */
  REQUIRE(gt);
  for (int64_t i = 0; i < nbig; i++) bad += ((uint8_t *)nn_data(gt))[i] != (i % 3 == 2);
  CHECK(bad == 0);
  CHECK(nn_pool_threads() >= 1);
  nn_tensor *all[] = {a, b, two, c, d, x, half, gt};
  for (size_t k = 0; k < sizeof all / sizeof *all; k++) nn_release(all[k]);
}

/* Streaming copies: any alignment of the destination, any length. */
TEST(stream_copy) {
  char src[300], dst[340];
  for (int i = 0; i < 300; i++) src[i] = (char)(i * 7 + 1);
  int bad = 0;
  for (int off = 0; off < 20; off++)
    for (int len = 0; len <= 300; len += 13) {
      memset(dst, 0, sizeof dst);
      nn_stream_copy(dst + off, src, (size_t)len);
      nn_stream_fence();
      bad += memcmp(dst + off, src, (size_t)len) != 0 || dst[off + len] != 0 ||
             (off > 0 && dst[off - 1] != 0);
    }
  CHECK(bad == 0);
}

/* Ctrl-C: an op that sees the flag fails with "interrupted" and clears it; a sum over 2^60
   elements of an expanded view returns at once when the flag is already up. */
TEST(interrupt_stops_ops) {
  nn_tensor *one = nn_full(NN_F32, 1, (int64_t[]){1}, 1);
  nn_tensor *e = nn_expand(one, 2, (int64_t[]){1LL << 30, 1LL << 30});
  REQUIRE(e);
  nn_interrupt();
  nn_tensor *s = nn_sum(e, -1, false);
  CHECK(!s && strcmp(nn_errmsg(), "interrupted") == 0 && !nn_interrupted());
  nn_tensor *t = nn_sum(one, -1, false); /* the next op runs as usual */
  CHECK(t && test_get(t, 0) == 1);
  nn_interrupt();
  CHECK(nn_call_into(&nn_op_add, one, (nn_tensor *[]){one, one}, NULL) < 0 && !nn_interrupted());
  RELEASE(one, e, s, t);
}
