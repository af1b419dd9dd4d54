/*
** tests/fuzz/fuzz_npy.c: nn_npy_load on any bytes.
*/
#include "nn/io.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nn_release(nn_npy_load(fuzz_file(data, size)));
  return 0;
}
