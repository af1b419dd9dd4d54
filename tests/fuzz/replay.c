/*
** tests/fuzz/replay.c: the main() of a fuzz target built without libFuzzer. Runs the target
** on every file named on the command line (directories: every file in them) and prints one
** TAP line per directory or file: "ok fuzz NAME: N inputs".
*/
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return perror(path), -1;
  size_t cap = 4096, n = 0, got;
  uint8_t *buf = malloc(cap);
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0)
    if ((n += got) == cap) buf = realloc(buf, cap *= 2);
  fclose(f);
  if (!buf) return perror(path), -1;
  /* a copy of exactly n bytes, so that ASan sees a read past the input */
  uint8_t *data = malloc(n ? n : 1);
  memcpy(data, buf, n);
  free(buf);
  LLVMFuzzerTestOneInput(data, n);
  free(data);
  return 0;
}

static int replay_dir(const char *dir, int *count) {
  struct dirent **names;
  int n = scandir(dir, &names, NULL, alphasort), status = 0;
  if (n < 0) return perror(dir), -1;
  for (int i = 0; i < n; i++) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
    if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      if (replay_file(path) < 0) status = -1;
      (*count)++;
    }
    free(names[i]);
  }
  free(names);
  return status;
}

int main(int argc, char **argv) {
  int status = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    int count = 0, r;
    if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
      r = replay_dir(argv[i], &count);
    else
      r = replay_file(argv[i]), count = 1;
    printf("%s fuzz replay %s: %d inputs\n", r == 0 ? "ok" : "not ok", argv[i], count);
    if (r) status = 1;
  }
  return status;
}
