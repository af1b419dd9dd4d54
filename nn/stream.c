/*
** nn/stream.c: non-temporal copies (SSE2, which every x86-64 has; plain copies elsewhere).
*/
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "nn/pool.h"
#include "nn/stream.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

bool nn_stream_worth(size_t nbytes) {
  static size_t threshold;
  if (!threshold) {
    long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    threshold = (size_t)(l2 > 0 ? l2 : 1 << 20) * (size_t)nn_pool_threads();
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
