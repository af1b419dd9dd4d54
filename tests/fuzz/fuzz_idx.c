/*
** tests/fuzz/fuzz_idx.c: nn_idx_load and nn_idx_load_as on any bytes, raw or gzip. The first
** byte picks the way of loading (as stored, or converted to f32, f64, i64 or u8), the second
** whether the rest is loaded as it is or gzip-compressed first, so that the fuzzer reaches
** the inflating reader's checks with valid gzip streams as well as broken ones.
*/
#include <stdlib.h>
#include <zlib.h>

#include "nn/io.h"
#include "tests/fuzz/fuzz.h"

static const struct {
  nn_dtype dtype;
  double divisor;
} ways[] = {{NN_F32, 255}, {NN_F64, 1}, {NN_I64, 1}, {NN_U8, 1}, {NN_F32, 1}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  unsigned way = data[0] % 6, gz = data[1] & 1;
  data += 2, size -= 2;
  uint8_t *packed = NULL;
  if (gz) { /* the rest, as a gzip stream */
    z_stream z = {0};
    uLong cap = compressBound(size) + 64;
    packed = malloc(cap);
    if (!packed || deflateInit2(&z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    z.next_in = (Bytef *)data, z.avail_in = (uInt)size;
    z.next_out = packed, z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
    size = z.total_out, data = packed;
    deflateEnd(&z);
  }
  const char *path = fuzz_file(data, size);
  if (way == 5)
    nn_release(nn_idx_load(path));
  else
    nn_release(nn_idx_load_as(path, ways[way].dtype, ways[way].divisor));
  free(packed);
  return 0;
}
