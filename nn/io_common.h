/*
** nn/io_common.h: what the tensor file formats share (private to nn/io_*.c): an atomic
** writer, checked reads, and the element types files hold, converted in place to a relua
** dtype. Every message starts with the file's path.
*/
#ifndef NN_IO_COMMON_H
#define NN_IO_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nn/tensor.h"

/* ---- writing: "<target>.tmp.<pid>", then fsync + rename over the target ----
   The target is path, or where path's symbolic links lead (the link stays a link); an
   existing target must be a regular file. Temporaries of the same target left by processes
   that no longer run (killed while writing) are removed. */

typedef struct nn_writer {
  const char *path; /* as the user gave it, for messages */
  char *target;
  char *tmp;
  int fd;
} nn_writer;

int nn_writer_open(nn_writer *w, const char *path);
int nn_writer_put(nn_writer *w, const void *p, size_t n);
int nn_writer_put_tensor(nn_writer *w, nn_tensor *t); /* its elements, contiguous, C order */
int nn_writer_commit(nn_writer *w); /* fsync, rename; on failure the temp file is removed */
void nn_writer_abort(nn_writer *w); /* closes and removes the temp file */

/* ---- reading ---- */

/* Opens a regular file for reading and gives its size. */
FILE *nn_reader_open(const char *path, int64_t *size);
/* Reads exactly n bytes of `what`; a short read is reported as truncation. */
int nn_reader_get(FILE *f, const char *path, void *p, size_t n, const char *what);

/* ---- element types found in files ---- */

typedef enum nn_raw {
  NN_RAW_BOOL,
  NN_RAW_U8,
  NN_RAW_I8,
  NN_RAW_I16,
  NN_RAW_U16,
  NN_RAW_I32,
  NN_RAW_U32,
  NN_RAW_I64,
  NN_RAW_F16,
  NN_RAW_BF16,
  NN_RAW_F32,
  NN_RAW_F64,
  NN_NRAW
} nn_raw;

size_t nn_raw_size(nn_raw r);
nn_dtype nn_raw_dtype(nn_raw r); /* the relua dtype it loads as (never narrower) */
/* numel * size bytes, or -1 with a message (prefixed by path) when that overflows the limit */
int64_t nn_raw_nbytes(const char *path, nn_raw r, int ndim, const int64_t *shape);

/* buf holds n elements of r in the given byte order, packed from its start; turns them in
   place into n elements of nn_raw_dtype(r), native order (buf must have room for those). */
void nn_raw_convert(void *buf, int64_t n, nn_raw r, bool big_endian);

/* An empty tensor of nn_raw_dtype(r); a failure's message starts with path. */
nn_tensor *nn_raw_empty(const char *path, nn_raw r, int ndim, const int64_t *shape);
/* The same, filled from f's next bytes and converted. */
nn_tensor *nn_raw_read(FILE *f, const char *path, nn_raw r, bool big_endian, int ndim,
                       const int64_t *shape);

#endif
