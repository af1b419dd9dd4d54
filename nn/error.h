/*
** nn/error.h: how the core reports a failure without Lua.
**
** A failing function records a message and returns NULL (or -1). The binding turns the
** message into a Lua error prefixed with the Lua function's name, so core messages say only
** what was wrong with the values: "shapes {2,3} and {4,5} do not match (3 ~= 4)".
*/
#ifndef NN_ERROR_H
#define NN_ERROR_H

#if defined(__GNUC__)
#define NN_PRINTF(i, j) __attribute__((format(printf, i, j)))
#else
#define NN_PRINTF(i, j)
#endif

void *nn_err(const char *fmt, ...) NN_PRINTF(1, 2); /* records, returns NULL */
int nn_errc(const char *fmt, ...) NN_PRINTF(1, 2);  /* records, returns -1 */
const char *nn_errmsg(void);

/* Ctrl-C. The host's signal handler calls nn_interrupt() (async-signal-safe: it sets a flag);
   long loops poll nn_interrupted() and stop early, and the op that ran them fails with the
   message "interrupted", clearing the flag. */
extern volatile int nn_interrupt_flag; /* sig_atomic_t is int where relua runs (error.c) */
static inline void nn_interrupt(void) {
  nn_interrupt_flag = 1;
}
static inline int nn_interrupted(void) {
  return nn_interrupt_flag;
}
void nn_interrupt_clear(void);
/* A loop that must stop between two of its steps (nn.fit, between batches) defers Ctrl-C:
   while nn_interrupt_deferred is set, the host's handler only raises nn_interrupt_requested
   for the first Ctrl-C, and the loop polls it; a second one interrupts as usual. */
extern volatile int nn_interrupt_deferred, nn_interrupt_requested;
int nn_interrupt_error(void); /* clears the flag; -1 with the message "interrupted" */

#endif
