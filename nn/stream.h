/*
** nn/stream.h: stores that bypass the caches, for outputs too large to stay in them.
**
** Writing a fresh buffer normally reads each of its lines into the cache first; a buffer
** larger than the caches gains nothing from that and evicts the inputs on the way.
*/
#ifndef NN_STREAM_H
#define NN_STREAM_H

#include <stdbool.h>
#include <stddef.h>

bool nn_stream_worth(size_t nbytes); /* larger than the L2 caches of the pool's threads */
void nn_stream_copy(void *dst, const void *src, size_t nbytes);
void nn_stream_fence(void); /* after the last nn_stream_copy of a job */

#endif
