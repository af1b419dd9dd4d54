/* tests/c/test_alloc.c: the caching allocator: large blocks come back latest-written first,
   whatever order they were freed in; stamps; the live and cached counts. */
#include <stdint.h>
#include <string.h>

#include "nn/alloc.h"
#include "test.h"

enum { BIG = 3000000, SMALL = 4096 };

/* Three large blocks freed oldest first and newest first: either way the next request of
   that size gets the one handed out last, then the one before. */
TEST(alloc_large_blocks_latest_first) {
  for (int order = 0; order < 2; order++) {
    void *p[3];
    for (int k = 0; k < 3; k++) {
      p[k] = nn_alloc(BIG);
      REQUIRE(p[k] != NULL);
      memset(p[k], k, BIG); /* the whole block is usable */
    }
    CHECK(nn_alloc_stamp(p[0], BIG) < nn_alloc_stamp(p[1], BIG));
    CHECK(nn_alloc_stamp(p[1], BIG) < nn_alloc_stamp(p[2], BIG));
    CHECK(nn_alloc_stamp(p[2], BIG) == nn_alloc_clock());
    for (int k = 0; k < 3; k++) nn_free(p[order ? 2 - k : k], BIG);
    void *first = nn_alloc(BIG), *second = nn_alloc(BIG);
    CHECK(first == p[2]);
    CHECK(second == p[1]);
    CHECK(nn_alloc_stamp(second, BIG) == nn_alloc_clock()); /* stamped afresh */
    nn_free(first, BIG);
    nn_free(second, BIG);
    nn_free(nn_alloc(BIG), BIG); /* p[0] is still cached: take it out */
  }
  nn_alloc_trim();
  CHECK(nn_alloc_cached() == 0);
}

/* Small blocks have no stamp and stay last in, first out. */
TEST(alloc_small_blocks_lifo) {
  void *a = nn_alloc(SMALL), *b = nn_alloc(SMALL);
  REQUIRE(a && b);
  CHECK(nn_alloc_stamp(a, SMALL) == 0);
  nn_free(a, SMALL);
  nn_free(b, SMALL);
  void *c = nn_alloc(SMALL);
  CHECK(c == b);
  nn_free(c, SMALL);
  nn_alloc_trim();
}

TEST(alloc_counts) {
  size_t live = nn_alloc_live();
  void *p = nn_alloc(BIG);
  REQUIRE(p != NULL);
  CHECK(nn_alloc_live() == live + (3u << 20)); /* rounded up to its class, 3 MiB */
  nn_free(p, BIG);
  CHECK(nn_alloc_live() == live);
  CHECK(nn_alloc_cached() >= (3u << 20));
  nn_alloc_trim();
  CHECK(nn_alloc_cached() == 0);
}
