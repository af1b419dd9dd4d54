/*
** nn/stream.c: non-temporal copies (SSE2, which every x86-64 has; plain copies elsewhere).
*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nn/pool.h"
#include "nn/stream.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The last-level cache of cpu0 in bytes, from sysfs (sysconf reports the whole socket's L3
   on some machines: 384 MB for twelve 32 MB slices), or 0. */
static size_t llc_bytes(void) {
  size_t best = 0;
  for (int i = 0; i < 8; i++) {
    char path[64];
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
    FILE *f = fopen(path, "r");
    if (!f) break;
    unsigned long n;
    char unit = 0;
    if (fscanf(f, "%lu%c", &n, &unit) >= 1) {
      size_t b = n << (unit == 'K' ? 10 : unit == 'M' ? 20 : 0);
      if (b > best) best = b;
    }
    fclose(f);
  }
  return best;
}

/* A result is streamed when it is larger than half the last-level cache: it cannot stay
   there beside its inputs. A smaller one is stored plainly: the next op usually reads it
   (a * b + c reads a * b), and its buffer, reused from a dead result, is often still in the
   caches. Without a last-level size, the L2 caches of the pool's threads. */
bool nn_stream_worth(size_t nbytes) {
  static size_t threshold;
  if (!threshold) {
    size_t llc = llc_bytes();
    long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    threshold = llc ? llc / 2 : (size_t)(l2 > 0 ? l2 : 1 << 20) * (size_t)nn_pool_threads();
  }
  return nbytes >= threshold;
}

void nn_stream_copy(void *dst, const void *src, size_t nbytes) {
  char *d = dst;
  const char *s = src;
#ifdef __SSE2__
  size_t head = (16 - (uintptr_t)d % 16) % 16;
  if (head > nbytes) head = nbytes;
  memcpy(d, s, head);
  d += head, s += head, nbytes -= head;
  for (; nbytes >= 64; d += 64, s += 64, nbytes -= 64) {
    __m128i x0 = _mm_loadu_si128((const __m128i *)s), x1 = _mm_loadu_si128((const __m128i *)s + 1);
    __m128i x2 = _mm_loadu_si128((const __m128i *)s + 2),
            x3 = _mm_loadu_si128((const __m128i *)s + 3);
    _mm_stream_si128((__m128i *)d, x0);
    _mm_stream_si128((__m128i *)d + 1, x1);
    _mm_stream_si128((__m128i *)d + 2, x2);
    _mm_stream_si128((__m128i *)d + 3, x3);
  }
#endif
  memcpy(d, s, nbytes);
}

void nn_stream_fence(void) {
#ifdef __SSE2__
  _mm_sfence();
#endif
}
