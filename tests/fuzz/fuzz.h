/*
** tests/fuzz/fuzz.h: what the fuzz targets share. Each target (fuzz_NAME.c) defines
** LLVMFuzzerTestOneInput; built with clang's -fsanitize=fuzzer it is a libFuzzer binary
** (`make fuzz FUZZ=NAME`), linked with replay.c it is a plain program that runs the target on
** each file it is given (`make test` replays tests/fuzz/corpus/NAME/ that way, sanitizers or not).
*/
#ifndef RELUA_FUZZ_H
#define RELUA_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input written to a private temporary file (the loaders take paths); the same path on
   every call of one process. Aborts when the file cannot be written. */
const char *fuzz_file(const uint8_t *data, size_t size);

#endif
