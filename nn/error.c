/* nn/error.c: the last error message, one per thread. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>

#include "nn/error.h"

static _Thread_local char message[512];

static void record(const char *fmt, va_list ap) {
  vsnprintf(message, sizeof message, fmt, ap);
}

void *nn_err(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record(fmt, ap);
  va_end(ap);
  return NULL;
}

int nn_errc(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record(fmt, ap);
  va_end(ap);
  return -1;
}

const char *nn_errmsg(void) {
  return message[0] ? message : "unknown error";
}

volatile int nn_interrupt_flag, nn_interrupt_deferred, nn_interrupt_requested;
_Static_assert(sizeof(sig_atomic_t) == sizeof(int), "the interrupt flag must be a sig_atomic_t");

void nn_interrupt_clear(void) {
  nn_interrupt_flag = 0;
}

int nn_interrupt_error(void) {
  nn_interrupt_flag = 0;
  return nn_errc("interrupted");
}
