/*
** dist/comm.h: the MPI side of nn.dist, without Lua: start-up, the collectives on raw
** buffers, the watch over calls that wait on other ranks, and the messages when a rank dies.
**
** Ranks are 0-based here (MPI's); the binding (dist/ldist.c) shows them 1-based. Every call
** that can block on the other ranks runs between comm_begin and comm_end: a watchdog thread
** ends the job with a message naming the rank and the call when one waits longer than the
** timeout, and when mpirun ends this process (another rank died) a SIGTERM handler prints
** the same, naming the ranks on this host that are gone. Functions return 0, or -1 with a
** message in comm_errmsg().
*/
#ifndef DIST_COMM_H
#define DIST_COMM_H

#include <stddef.h>
#include <stdint.h>

enum comm_type { COMM_F32, COMM_F64, COMM_I64, COMM_U8 }; /* as nn_dtype */
enum comm_op { COMM_SUM, COMM_MEAN, COMM_MAX };           /* allreduce */
enum comm_call {
  CALL_ALLREDUCE,
  CALL_BROADCAST,
  CALL_ALLGATHER, /* for signatures */
  CALL_BARRIER,
  CALL_CHECK
};

const char *comm_errmsg(void);

/* Starts MPI when the process runs under mpirun (a world of one otherwise, without MPI).
   timeout: seconds a call may wait on the other ranks (<= 0: the default, 600, or the
   environment's RELUA_DIST_TIMEOUT). Idempotent. */
int comm_init(double timeout);
int comm_rank(void); /* 0-based */
int comm_size(void);
int comm_active(void); /* whether MPI runs (size > 1 or launched by mpirun) */
void comm_set_timeout(double seconds);

/* The signature of one rank's call: which call, the op or root, the tensor's dtype and
   shape. comm_check gathers every rank's and fails, with a message listing them, unless
   they agree. */
typedef struct comm_sig {
  int32_t call, arg, dtype, ndim;
  int64_t shape[8];
} comm_sig;
int comm_check(const char *fname, const comm_sig *mine);

/* In place on n elements of a contiguous buffer (mean: the sum times 1/size, float types). */
int comm_allreduce(const char *fname, void *buf, int64_t n, int type, int op);
int comm_broadcast(const char *fname, void *buf, int64_t n, int type, int root);
int comm_allgather(const char *fname, const void *in, void *out, int64_t n, int type);
int comm_barrier(const char *fname);

/* The blocking sum of a float buffer, multiplied by scale: the last gradient bucket. */
int comm_sum_now(const char *fname, void *buf, int64_t n, int type, double scale);

/* Non-blocking sum of a float buffer: a handle >= 0 (or -1); comm_progress moves the
   pending ones on; comm_wait ends one and multiplies the result by scale. */
int comm_iallreduce(const char *fname, void *buf, int64_t n, int type);
int comm_progress(void);
int comm_wait(const char *fname, int handle, double scale);

/* Seconds spent blocked in collectives since start (waits included), and their count. */
double comm_wait_seconds(void);
int64_t comm_calls(void);

#endif
