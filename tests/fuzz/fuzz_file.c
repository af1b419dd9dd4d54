/*
** tests/fuzz/fuzz_file.c: one temporary file per process that holds the current input.
*/
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

static char path[64];

static void remove_file(void) {
  unlink(path);
}

const char *fuzz_file(const uint8_t *data, size_t size) {
  if (!path[0]) {
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/relua-fuzz.%ld", dir && *dir ? dir : "/tmp", (long)getpid());
    atexit(remove_file);
  }
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
    perror(path);
    abort();
  }
  return path;
}
