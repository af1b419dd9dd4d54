/*
** tests/fuzz/fuzz_safetensors.c: nn_safetensors_load on any bytes.
*/
#include "nn/io.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nn_st_file f;
  if (nn_safetensors_load(fuzz_file(data, size), &f) == 0) nn_st_file_free(&f);
  return 0;
}
