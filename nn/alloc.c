/*
** nn/alloc.c: a caching allocator.
**
** Sizes are rounded up to one of four classes per power of two (so at most 25% is wasted)
** and freed blocks wait in a per-class free list for the next request of that class. The
** cache is capped; beyond the cap, blocks go back to the system at once.
**
** Large blocks (STAMPED bytes and more) carry a header, one ALIGN unit in front, with the
** order in which they were handed out, and their free lists are kept in that order, latest
** first: the next large result then lands in the free buffer that was written last, the one
** most likely still in the caches. The collector frees a batch of dead results at once, in an
** order of its own (newest first), which a plain LIFO list would turn into oldest first.
*/
#include <stdint.h>
#include <stdlib.h>

#include "nn/alloc.h"

enum { ALIGN = 64, NCLASS = 4 * 64 };
/* Bytes kept for reuse at most, and the largest block kept: a training loop's batches and
   activations are reused; a dataset-sized block freed once goes back to the system. */
static const size_t CACHE_CAP = (size_t)256 << 20, CACHE_MAX_BLOCK = (size_t)32 << 20;

enum { STAMPED = 1 << 18 };

typedef struct block {
  struct block *next;
  uint64_t stamp; /* stamped blocks: when it was last handed out */
} block;

static block *free_list[NCLASS];
static size_t live, cached;
static uint64_t handed_out; /* stamped blocks handed out so far */

/* The address the system gave for the block handed out as p, and back. */
static block *base_of(void *p, size_t rounded) {
  return rounded >= STAMPED ? (block *)((char *)p - ALIGN) : p;
}
static void *user_of(block *b, size_t rounded) {
  return rounded >= STAMPED ? (char *)b + ALIGN : (void *)b;
}

/* b into class c's list: at the head, or for stamped blocks after the later ones. */
static void push_free(int c, block *b, size_t rounded) {
  block **at = &free_list[c];
  if (rounded >= STAMPED)
    while (*at && (*at)->stamp > b->stamp) at = &(*at)->next;
  b->next = *at;
  *at = b;
}

/* The class of n: its power of two and which quarter above it; returns the class size. */
static int size_class(size_t n, size_t *rounded) {
  if (n <= ALIGN) { /* classes are multiples of ALIGN, as aligned_alloc requires */
    *rounded = ALIGN;
    return 0;
  }
  int p = 63 - __builtin_clzll((unsigned long long)(n - 1)); /* 2^p < n <= 2^(p+1) */
  size_t base = (size_t)1 << p, quarter = base >= 4 * ALIGN ? base / 4 : ALIGN;
  size_t q = (n - base + quarter - 1) / quarter; /* 1..4 */
  *rounded = base + q * quarter;
  return 4 * p + (int)q - 1;
}

void *nn_alloc(size_t nbytes) {
  size_t rounded;
  if (nbytes > SIZE_MAX / 2) return NULL;
  int c = size_class(nbytes, &rounded);
  size_t header = rounded >= STAMPED ? ALIGN : 0;
  block *b = free_list[c];
  if (b) {
    free_list[c] = b->next;
    cached -= rounded;
  } else {
    b = aligned_alloc(ALIGN, rounded + header);
    if (!b) {
      nn_alloc_trim(); /* maybe the cache holds what we need, in other sizes */
      b = aligned_alloc(ALIGN, rounded + header);
      if (!b) return NULL;
    }
  }
  if (header) b->stamp = ++handed_out;
  live += rounded;
  return user_of(b, rounded);
}

void nn_free(void *p, size_t nbytes) {
  if (!p) return;
  size_t rounded;
  int c = size_class(nbytes, &rounded);
  live -= rounded;
  block *b = base_of(p, rounded);
  if (rounded > CACHE_MAX_BLOCK || cached + rounded > CACHE_CAP) {
    free(b);
    return;
  }
  push_free(c, b, rounded);
  cached += rounded;
}

size_t nn_alloc_live(void) {
  return live;
}
size_t nn_alloc_cached(void) {
  return cached;
}

uint64_t nn_alloc_clock(void) {
  return handed_out;
}

uint64_t nn_alloc_stamp(const void *p, size_t nbytes) {
  size_t rounded;
  size_class(nbytes, &rounded);
  return p && rounded >= STAMPED ? base_of((void *)p, rounded)->stamp : 0;
}

void nn_alloc_trim(void) {
  for (int c = 0; c < NCLASS; c++) {
    while (free_list[c]) {
      block *b = free_list[c];
      free_list[c] = b->next;
      free(b);
    }
  }
  cached = 0;
}

/* Small headers: one free list per size, in 16-byte steps up to 512 bytes. */
enum { SMALL_STEP = 16, SMALL_MAX = 512 };
static block *small_list[SMALL_MAX / SMALL_STEP + 1];

void *nn_small_alloc(size_t nbytes) {
  size_t k = (nbytes + SMALL_STEP - 1) / SMALL_STEP;
  if (k >= sizeof small_list / sizeof *small_list) return malloc(nbytes);
  block *b = small_list[k];
  if (!b) return malloc(k * SMALL_STEP);
  small_list[k] = b->next;
  return b;
}

void nn_small_free(void *p, size_t nbytes) {
  if (!p) return;
  size_t k = (nbytes + SMALL_STEP - 1) / SMALL_STEP;
  if (k >= sizeof small_list / sizeof *small_list) {
    free(p);
    return;
  }
  block *b = p;
  b->next = small_list[k];
  small_list[k] = b;
}
