/*
** nn/alloc.h: the core's memory. Buffers come from size-class free lists so that a training
** loop reuses the same blocks step after step; live bytes are counted so that the binding
** can tell Lua's collector how much memory its userdata really hold. Not thread-safe: the
** core is driven from one thread (OpenBLAS threads never allocate through it).
*/
#ifndef NN_ALLOC_H
#define NN_ALLOC_H

#include <stddef.h>

void *nn_alloc(size_t nbytes);        /* 64-byte aligned; NULL when out of memory */
void nn_free(void *p, size_t nbytes); /* nbytes as given to nn_alloc */
size_t nn_alloc_live(void);           /* bytes handed out and not yet freed */
size_t nn_alloc_cached(void);         /* bytes held in free lists */
void nn_alloc_trim(void);             /* give every cached block back to the system */

/* fixed-size small objects (tensor and storage headers) */
void *nn_small_alloc(size_t nbytes);
void nn_small_free(void *p, size_t nbytes);

#endif
