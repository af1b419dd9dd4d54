/*
** dist/watch.h: the watch over calls that wait on other ranks.
**
** watch_start gathers every rank's host and pid (one MPI_Allgather), then starts a thread
** that ends the process, with a message naming this rank, the call and the ranks gone,
** when a rank of this host dies during a call between watch_begin and watch_end, or the
** call has waited longer than the timeout; and
** installs a SIGTERM handler that prints the same message when mpirun ends this process
** because another rank died. The message goes to stderr in one write.
*/
#ifndef DIST_WATCH_H
#define DIST_WATCH_H

int watch_start(int rank, int size);
const char *watch_errmsg(void);
/* seconds > 0; 0 or less: RELUA_DIST_TIMEOUT from the environment, else 600 */
void watch_set_timeout(double seconds);
double watch_timeout(void);
/* what: the call, as the user wrote it ("nn.dist.allreduce"); timed: whether the timeout
   applies (the exit's MPI_Finalize is watched by the SIGTERM handler only) */
void watch_begin(const char *what, int timed);
void watch_end(void);

#endif
