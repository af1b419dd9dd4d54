/*
** dist/comm.c: MPI start-up and exit, the collectives, and the watch over waiting calls
** (see comm.h). The messages for a dead or stuck rank are in dist/watch.c.
*/
#include <dlfcn.h>
#include <sched.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mpi.h>

#include "dist/comm.h"
#include "dist/watch.h"

enum { MAX_PENDING = 256 };

static char errbuf[1024];
static bool started, active, finalized;
static int rank, size = 1;
static double wait_s;
static int64_t ncalls;

typedef struct pending {
  MPI_Request req;
  void *buf;
  int64_t n;
  int type;
  bool used;
} pending;
static pending reqs[MAX_PENDING];

static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errbuf, sizeof errbuf, fmt, ap);
  va_end(ap);
  return -1;
}

const char *comm_errmsg(void) {
  return errbuf;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* An MPI return code as the binding's error: the function, this rank, MPI's words. */
static int check_rc(const char *fname, int rc) {
  if (rc == MPI_SUCCESS) return 0;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  return fail("%s: MPI failed on rank %d of %d: %s", fname, rank + 1, size, text);
}

/* ---- start and exit ---- */

static bool launched(void) {
  return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

/* At exit: MPI_Finalize after a success; after a failure nothing, so that mpirun sees the
   status and ends the other ranks instead of their waiting for this one in a collective. */
static void at_exit(int status, void *arg) {
  (void)arg;
  if (!active || finalized || status != 0) return;
  finalized = true;
  watch_begin("the exit of relua (MPI_Finalize)", 1);
  MPI_Finalize();
  watch_end();
}

/* Keeps this library (and libmpi) mapped until the process ends, though Lua's state may
   unload C modules first: at_exit and the watch thread live here. libmpi goes global, as
   its plugins expect of a program linked with it. */
static void pin_libraries(void) {
  Dl_info info;
  if (dladdr((void *)comm_init, &info) && info.dli_fname)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NODELETE | RTLD_NOLOAD);
  if (dladdr((void *)MPI_Init_thread, &info) && info.dli_fname)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE | RTLD_NOLOAD);
}

/* Open MPI's defaults where the user set none (the environment, or mpirun's --mca, wins):
   shared memory between ranks of a host copies through its own buffers rather than
   process_vm_readv ("CMA", which needs ptrace rights containers often withhold, and which
   pins the pages at every message: 0.08 ms against 0.13 for the MLP's 0.94 MB gradient on
   2 ranks, scripts/bench/dist.lua). Open MPI 4 calls the component vader, 5 calls it sm. */
static void mpi_defaults(void) {
  setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 0);
  setenv("OMPI_MCA_btl_sm_single_copy_mechanism", "none", 0);
}

int comm_init(double timeout) {
  if (timeout > 0) watch_set_timeout(timeout);
  if (started) return 0;
  if (!launched()) return started = true, 0;
  pin_libraries();
  mpi_defaults();
  int provided;
  if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    return fail("nn.dist.init: MPI_Init failed");
  active = started = true;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  on_exit(at_exit, NULL);
  if (watch_start(rank, size) < 0) return fail("nn.dist.init: %s", watch_errmsg());
  return 0;
}

int comm_rank(void) {
  return rank;
}
int comm_size(void) {
  return size;
}
int comm_active(void) {
  return active && !finalized;
}
void comm_set_timeout(double seconds) {
  watch_set_timeout(seconds);
}
double comm_wait_seconds(void) {
  return wait_s;
}
int64_t comm_calls(void) {
  return ncalls;
}

/* ---- calls ---- */

static MPI_Datatype mpi_type(int type) {
  return type == COMM_F32   ? MPI_FLOAT
         : type == COMM_F64 ? MPI_DOUBLE
         : type == COMM_I64 ? MPI_INT64_T
                            : MPI_UINT8_T;
}

/* Waits for req without holding a core for long: MPI_Wait busy-polls, which on a machine
   with more ranks (or other work) than cores takes the time the other ranks need to catch
   up. It polls for spin_us (RELUA_DIST_SPIN_US, 10000 by default: only MPI_Test moves a
   collective on, step by step of its algorithm, and a rank that gives its core away in a
   short wait gets it back a scheduler's time slice later, at every step: on a loaded
   machine 2 ranks of the MLP bench took 75 ms a step so, against 17 spinning), then yields
   the core between polls up to 20 ms, then sleeps between polls, 50 us growing to 1 ms:
   a rank waiting for rank 1's checkpoint or validation does not burn a core. */
static double spin_s = -1;

static int wait_polite(MPI_Request *req) {
  if (spin_s < 0) {
    const char *env = getenv("RELUA_DIST_SPIN_US");
    spin_s = env ? strtod(env, NULL) * 1e-6 : 10e-3;
    if (!(spin_s >= 0)) spin_s = 10e-3;
  }
  double t0 = now();
  long pause_ns = 50000;
  for (int k = 0;; k++) {
    int done = 0, rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS || done) return rc;
    if ((k & 15) != 15) continue;
    double waited = now() - t0;
    if (waited < spin_s) continue;
    if (waited < spin_s + 20e-3) {
      sched_yield();
      continue;
    }
    struct timespec ts = {0, pause_ns};
    nanosleep(&ts, NULL);
    if (pause_ns < 1000000) pause_ns += pause_ns / 2;
  }
}

static int begin(const char *fname, const char *what, int64_t n) {
  if (n > INT_MAX)
    return fail("%s: %lld elements (MPI takes at most %d per call)", fname, (long long)n, INT_MAX);
  char text[160];
  snprintf(text, sizeof text, "%s%s%s", fname, what ? " " : "", what ? what : "");
  watch_begin(text, 1);
  ncalls++;
  return 0;
}

static int end(const char *fname, int rc, double t0) {
  watch_end();
  wait_s += now() - t0;
  return check_rc(fname, rc);
}

static void scale_buffer(void *buf, int64_t n, int type, double s) {
  if (s == 1) return;
  if (type == COMM_F32)
    for (int64_t i = 0; i < n; i++) ((float *)buf)[i] *= (float)s;
  else if (type == COMM_F64)
    for (int64_t i = 0; i < n; i++) ((double *)buf)[i] *= s;
}

static const char *const SIG_CALLS[] = {"allreduce", "broadcast", "allgather", "barrier", "check"};
static const char *const SIG_TYPES[] = {"f32", "f64", "i64", "u8"};
static const char *const SIG_OPS[] = {"sum", "mean", "max"};

static void describe(char *out, size_t cap, const comm_sig *s) {
  int k = snprintf(out, cap, "%s", SIG_CALLS[s->call % 5]);
  if (s->call == CALL_ALLREDUCE) k += snprintf(out + k, cap - k, " %s", SIG_OPS[s->arg % 3]);
  if (s->call == CALL_BROADCAST) k += snprintf(out + k, cap - k, " from rank %d", s->arg + 1);
  if (s->call == CALL_BARRIER) return;
  k += snprintf(out + k, cap - k, " of %s {", SIG_TYPES[s->dtype % 4]);
  for (int d = 0; d < s->ndim && d < 8 && k < (int)cap; d++)
    k += snprintf(out + k, cap - k, "%s%lld", d ? "," : "", (long long)s->shape[d]);
  if (k < (int)cap) snprintf(out + k, cap - k, "}");
}

int comm_check(const char *fname, const comm_sig *mine) {
  if (!comm_active() || size == 1) return 0;
  comm_sig *all = calloc((size_t)size, sizeof *all);
  if (!all) return fail("%s: out of memory", fname);
  double t0 = now();
  begin(fname, "(comparing the ranks' tensors)", 0);
  MPI_Request req;
  int rc = MPI_Iallgather(mine, (int)sizeof *mine, MPI_BYTE, all, (int)sizeof *mine, MPI_BYTE,
                          MPI_COMM_WORLD, &req);
  if (rc == MPI_SUCCESS) rc = wait_polite(&req);
  if (end(fname, rc, t0) < 0) return free(all), -1;
  int bad = -1;
  for (int r = 1; r < size && bad < 0; r++)
    if (memcmp(&all[r], &all[0], sizeof *all) != 0) bad = r;
  if (bad >= 0) {
    char a[200], b[200];
    describe(a, sizeof a, &all[0]);
    describe(b, sizeof b, &all[bad]);
    fail("%s: the ranks' calls differ: rank 1 called %s, rank %d called %s", fname, a, bad + 1, b);
  }
  free(all);
  return bad >= 0 ? -1 : 0;
}

int comm_allreduce(const char *fname, void *buf, int64_t n, int type, int op) {
  if (!comm_active() || size == 1) return 0;
  double t0 = now();
  if (begin(fname, NULL, n) < 0) return -1;
  MPI_Request req;
  int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, mpi_type(type),
                          op == COMM_MAX ? MPI_MAX : MPI_SUM, MPI_COMM_WORLD, &req);
  if (rc == MPI_SUCCESS) rc = wait_polite(&req);
  if (end(fname, rc, t0) < 0) return -1;
  if (op == COMM_MEAN) scale_buffer(buf, n, type, 1.0 / size);
  return 0;
}

int comm_broadcast(const char *fname, void *buf, int64_t n, int type, int root) {
  if (!comm_active() || size == 1) return 0;
  double t0 = now();
  if (begin(fname, NULL, n) < 0) return -1;
  MPI_Request req;
  int rc = MPI_Ibcast(buf, (int)n, mpi_type(type), root, MPI_COMM_WORLD, &req);
  if (rc == MPI_SUCCESS) rc = wait_polite(&req);
  return end(fname, rc, t0);
}

int comm_allgather(const char *fname, const void *in, void *out, int64_t n, int type) {
  if (!comm_active() || size == 1) return 0;
  double t0 = now();
  if (begin(fname, NULL, n) < 0) return -1;
  MPI_Datatype t = mpi_type(type);
  MPI_Request req;
  int rc = MPI_Iallgather(in, (int)n, t, out, (int)n, t, MPI_COMM_WORLD, &req);
  if (rc == MPI_SUCCESS) rc = wait_polite(&req);
  return end(fname, rc, t0);
}

int comm_barrier(const char *fname) {
  if (!comm_active() || size == 1) return 0;
  double t0 = now();
  begin(fname, NULL, 0);
  MPI_Request req;
  int rc = MPI_Ibarrier(MPI_COMM_WORLD, &req);
  if (rc == MPI_SUCCESS) rc = wait_polite(&req);
  return end(fname, rc, t0);
}

/* The sum of a gradient bucket that nothing is left to overlap with: MPI's blocking
   allreduce, whose algorithms (the tuned component) take 0.08 ms for 0.94 MB where the
   non-blocking one (libnbc) takes 0.11; it polls without sleeping, as waits are short. */
int comm_sum_now(const char *fname, void *buf, int64_t n, int type, double scale) {
  if (comm_active() && size > 1) {
    double t0 = now();
    if (begin(fname, NULL, n) < 0) return -1;
    int rc = MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, mpi_type(type), MPI_SUM, MPI_COMM_WORLD);
    if (end(fname, rc, t0) < 0) return -1;
  }
  scale_buffer(buf, n, type, scale);
  return 0;
}

/* ---- non-blocking ---- */

int comm_iallreduce(const char *fname, void *buf, int64_t n, int type) {
  int h = 0;
  while (h < MAX_PENDING && reqs[h].used) h++;
  if (h == MAX_PENDING) return fail("%s: more than %d allreduces pending", fname, MAX_PENDING);
  if (n > INT_MAX) return fail("%s: %lld elements (at most %d)", fname, (long long)n, INT_MAX);
  reqs[h] = (pending){MPI_REQUEST_NULL, buf, n, type, true};
  if (!comm_active() || size == 1) return h;
  int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, mpi_type(type), MPI_SUM, MPI_COMM_WORLD,
                          &reqs[h].req);
  ncalls++;
  if (check_rc(fname, rc) < 0) return reqs[h].used = false, -1;
  return h;
}

int comm_progress(void) {
  if (!comm_active() || size == 1) return 0;
  for (int h = 0; h < MAX_PENDING; h++) {
    if (!reqs[h].used || reqs[h].req == MPI_REQUEST_NULL) continue;
    int done = 0;
    if (check_rc("nn.dist (progress)", MPI_Test(&reqs[h].req, &done, MPI_STATUS_IGNORE)) < 0)
      return -1;
  }
  return 0;
}

int comm_wait(const char *fname, int handle, double scale) {
  if (handle < 0 || handle >= MAX_PENDING || !reqs[handle].used)
    return fail("%s: no pending allreduce %d", fname, handle);
  pending *p = &reqs[handle];
  p->used = false;
  if (p->req != MPI_REQUEST_NULL) {
    double t0 = now();
    begin(fname, NULL, 0);
    if (end(fname, wait_polite(&p->req), t0) < 0) return -1;
  }
  scale_buffer(p->buf, p->n, p->type, scale);
  return 0;
}
