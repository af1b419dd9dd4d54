/*
** nn/alloc.h: the core's memory. Buffers come from size-class free lists so that a training
** loop reuses the same blocks step after step; live bytes are counted so that the binding
** can tell Lua's collector how much memory its userdata really hold. Not thread-safe: the
** core is driven from one thread (OpenBLAS threads never allocate through it).
*/
#ifndef NN_ALLOC_H
#define NN_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *nn_alloc(size_t nbytes);        /* 64-byte aligned; NULL when out of memory */
void nn_free(void *p, size_t nbytes); /* nbytes as given to nn_alloc */
size_t nn_alloc_live(void);           /* bytes handed out and not yet freed */
size_t nn_alloc_cached(void);         /* bytes held in free lists */
void nn_alloc_trim(void);             /* give every cached block back to the system */

/* Large blocks (256 KB and more) are stamped with the count of large blocks handed out
   before them, so that a caller can tell a recent buffer from an older one. */
uint64_t nn_alloc_clock(void);                         /* large blocks handed out so far */
uint64_t nn_alloc_stamp(const void *p, size_t nbytes); /* p's stamp; 0 for a small block */

/* fixed-size small objects (tensor and storage headers) */
void *nn_small_alloc(size_t nbytes);
void nn_small_free(void *p, size_t nbytes);

#endif
