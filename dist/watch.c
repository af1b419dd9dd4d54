/*
** dist/watch.c: the watchdog thread and the SIGTERM message (see watch.h).
**
** The call being watched is a few atomics and a text buffer written before the call starts;
** the thread and the signal handler only read them. The handler formats with its own
** appends (no stdio: it may interrupt anything) and asks the kernel, with kill(pid, 0),
** which ranks of this host are gone.
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mpi.h>

#include "dist/watch.h"

enum { HOST = 64, TEXT = 192 };

typedef struct peer {
  char host[HOST];
  int pid;
} peer;

static int my_rank, nranks;
static peer *peers;
static char errbuf[256];
static char what[TEXT];
static atomic_int in_call, timed;
static atomic_long call_start; /* seconds, CLOCK_MONOTONIC */
static _Atomic double timeout_s;

static long seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec;
}

const char *watch_errmsg(void) {
  return errbuf;
}

void watch_set_timeout(double s) {
  if (s <= 0) {
    const char *env = getenv("RELUA_DIST_TIMEOUT");
    s = env ? strtod(env, NULL) : 0;
    if (s <= 0) s = 600;
  }
  timeout_s = s;
}

double watch_timeout(void) {
  if (timeout_s <= 0) watch_set_timeout(0);
  return timeout_s;
}

void watch_begin(const char *text, int is_timed) {
  snprintf(what, sizeof what, "%s", text);
  call_start = seconds();
  timed = is_timed;
  atomic_store_explicit(&in_call, 1, memory_order_release);
}

void watch_end(void) {
  atomic_store_explicit(&in_call, 0, memory_order_release);
}

/* ---- the message, signal-safe ---- */

typedef struct text {
  char buf[1024];
  size_t n;
} text;

static void put(text *t, const char *s) {
  while (*s && t->n < sizeof t->buf - 2) t->buf[t->n++] = *s++;
}

static void put_int(text *t, long v) {
  char d[24];
  int k = 0;
  if (v < 0) put(t, "-"), v = -v;
  do d[k++] = (char)('0' + v % 10), v /= 10;
  while (v > 0 && k < 23);
  while (k > 0 && t->n < sizeof t->buf - 2) t->buf[t->n++] = d[--k];
}

static void put_rank(text *t, int r) {
  put(t, "rank "), put_int(t, r + 1);
}

/* Whether process pid has ended: no such process, or a zombie that its parent (mpirun's
   daemon) has not reaped yet (state Z or X in /proc/pid/stat). Signal-safe. */
static int ended(int pid) {
  if (kill(pid, 0) != 0) return errno == ESRCH;
  text path = {.n = 0};
  put(&path, "/proc/"), put_int(&path, pid), put(&path, "/stat");
  path.buf[path.n] = 0;
  int fd = open(path.buf, O_RDONLY);
  if (fd < 0) return 1;
  char st[512];
  ssize_t n = read(fd, st, sizeof st - 1);
  close(fd);
  if (n <= 0) return 1;
  st[n] = 0;
  char *paren = strrchr(st, ')');
  return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* "; rank 2 (pid 123) is gone" for each rank of this host whose process has ended */
static int put_gone(text *t) {
  int gone = 0;
  for (int r = 0; peers && r < nranks; r++) {
    if (r == my_rank || strcmp(peers[r].host, peers[my_rank].host) != 0) continue;
    if (!ended(peers[r].pid)) continue;
    put(t, gone++ ? ", " : ": "), put_rank(t, r);
    put(t, " (pid "), put_int(t, peers[r].pid), put(t, ") has died");
  }
  return gone;
}

static void put_head(text *t) {
  put(t, "\nnn.dist: "), put_rank(t, my_rank), put(t, " of "), put_int(t, nranks);
}

static void emit(text *t) {
  t->buf[t->n++] = '\n';
  ssize_t w = write(2, t->buf, t->n);
  (void)w;
}

static void on_term(int sig) {
  text t = {.n = 0};
  put_head(&t);
  put(&t, " was ended by mpirun");
  if (atomic_load(&in_call)) put(&t, " while waiting in "), put(&t, what);
  if (!put_gone(&t)) put(&t, " (another rank failed: see mpirun's message)");
  emit(&t);
  signal(sig, SIG_DFL);
  raise(sig);
}

/* whether a rank of this host has ended (the test put_gone makes, without the message) */
static int any_gone(void) {
  for (int r = 0; peers && r < nranks; r++)
    if (r != my_rank && strcmp(peers[r].host, peers[my_rank].host) == 0 && ended(peers[r].pid))
      return 1;
  return 0;
}

/* Every 200 ms, while a call waits: a rank of this host that has died ends this one now,
   with the message, rather than when mpirun gets to it (under load its SIGTERM, and the
   SIGKILL that follows, can come before this rank has had the core to say anything); a
   call that has waited longer than the timeout ends it too. */
static void *watch(void *arg) {
  (void)arg;
  for (;;) {
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    if (!atomic_load_explicit(&in_call, memory_order_acquire)) continue;
    text t = {.n = 0};
    put_head(&t);
    if (timed && any_gone()) { /* not at the exit: the others may be gone already */
      put(&t, " was waiting in "), put(&t, what);
      put_gone(&t);
      put(&t, "; ending the job");
      emit(&t);
      _exit(3);
    }
    long waited = seconds() - call_start;
    if (!timed || (double)waited < watch_timeout()) continue;
    put(&t, " waited "), put_int(&t, waited), put(&t, " s in "), put(&t, what);
    put(&t, " for the other ranks");
    if (!put_gone(&t))
      put(&t, " (one of them is stuck, died on another host, or called another collective)");
    put(&t, "; ending the job (timeout: RELUA_DIST_TIMEOUT or nn.dist.init{timeout})");
    emit(&t);
    _exit(3);
  }
  return NULL;
}

int watch_start(int rank, int size) {
  my_rank = rank, nranks = size;
  peers = calloc((size_t)size, sizeof *peers);
  if (!peers) return snprintf(errbuf, sizeof errbuf, "out of memory"), -1;
  peer me = {.pid = (int)getpid()};
  gethostname(me.host, sizeof me.host - 1);
  watch_begin("nn.dist.init", 1);
  int rc =
      MPI_Allgather(&me, (int)sizeof me, MPI_BYTE, peers, (int)sizeof me, MPI_BYTE, MPI_COMM_WORLD);
  watch_end();
  if (rc != MPI_SUCCESS) return snprintf(errbuf, sizeof errbuf, "MPI_Allgather failed"), -1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  pthread_t th;
  if (pthread_create(&th, NULL, watch, NULL) != 0)
    return snprintf(errbuf, sizeof errbuf, "cannot start the watch thread"), -1;
  pthread_detach(th);
  return 0;
}
