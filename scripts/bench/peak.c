/* scripts/bench/peak.c FILE CMD [ARG...]: runs CMD and writes its own peak RSS in KB to FILE.
   The kernel counts a child's peak from its fork, so a child forked from a big process (the
   Python of run.py) reports that process's pages too: /bin/true measures 7-11 MB that way.
   Forked from this small launcher instead, /bin/true measures about 1 MB. Exits with CMD's
   status (128 + the signal if it was killed). */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: peak FILE CMD [ARG...]\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) {
    perror("peak: fork");
    return 2;
  }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    perror("peak: exec");
    _exit(127);
  }
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) {
    perror("peak: wait4");
    return 2;
  }
  FILE *f = fopen(argv[1], "w");
  if (!f) {
    perror("peak: output file");
    return 2;
  }
  fprintf(f, "%ld\n", ru.ru_maxrss);
  fclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
