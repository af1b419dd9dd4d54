/*
** nn/io.h: tensor files. safetensors (named tensors + string metadata), .npy (one array, as
** numpy writes it) and IDX (MNIST's format, gzip or not).
**
** Writers are atomic: they write "<path>.tmp.<pid>", fsync it and rename it over path, so a
** failure (full disk, bad argument, crash) never leaves a half-written file where the old one
** was. Readers never execute anything and check every size in a file against the file's own
** length before allocating, so a lying header costs an error message, not a huge malloc.
** Every failure returns NULL or -1 with a message that starts with the path:
** "model.safetensors: header length 999999999999 exceeds the file size 1234".
*/
#ifndef NN_IO_H
#define NN_IO_H

#include "nn/tensor.h"

/* ---- safetensors ---- */

/* Writes n named tensors (f32, f64, i64 and u8 stored as F32, F64, I64, U8; strided tensors as
   their contiguous copy) and nmeta string pairs in "__metadata__". Names must be distinct,
   valid UTF-8 and not "__metadata__". Tensors are laid out as the reference writer does:
   by descending dtype alignment, then by name, data starting 8-byte aligned. */
int nn_safetensors_save(const char *path, int n, const char *const *names,
                        nn_tensor *const *tensors, int nmeta, const char *const *meta_keys,
                        const char *const *meta_values);

/* A loaded file: tensors in the order of their data in the file, metadata in header order. */
typedef struct nn_st_file {
  int n;
  char **names;
  nn_tensor **tensors; /* references owned by the struct */
  int nmeta;
  char **meta_keys;
  char **meta_values;
} nn_st_file;

/* Reads every tensor of a safetensors file into *out (zeroed first; left empty on failure).
   F32, F64, I64, U8 load as themselves; BOOL as u8; I8, I16, I32, U16, U32 as i64; F16 and
   BF16 as f32. Other dtypes (U64, C64, F8_*, ...) are refused. */
int nn_safetensors_load(const char *path, nn_st_file *out);
void nn_st_file_free(nn_st_file *f); /* releases everything; *f is zeroed, so twice is fine */

/* ---- .npy ---- */

/* Writes t as a version 1.0 .npy file, byte for byte what numpy.save writes: descr '<f4',
   '<f8', '<i8' or '|u1', C order, header padded so the data starts 64-byte aligned. */
int nn_npy_save(const char *path, nn_tensor *t);

/* Reads a .npy file of version 1.0, 2.0 or 3.0. Accepts bool, int8/16/32/64, uint8/16/32 and
   float16/32/64 in either byte order ('<', '>', '|', '='), C or Fortran order; loads them as
   u8 (bool, uint8), i64 (other integers), f32 (float16, float32) or f64. Object arrays
   ('|O', which need pickle) and structured arrays are refused. */
nn_tensor *nn_npy_load(const char *path);

/* ---- IDX ---- */

/* Reads an IDX file (gzip-compressed or not): magic 00 00 <type> <ndim>, ndim big-endian u32
   sizes, then big-endian data. Types 0x08 ubyte -> u8; 0x09 byte, 0x0B short, 0x0C int -> i64;
   0x0D float -> f32; 0x0E double -> f64. The data must match the sizes exactly. */
nn_tensor *nn_idx_load(const char *path);
/* The same, loaded as dtype with every element divided by divisor (finite, nonzero; other
   than 1 only for f32 and f64), converted while reading: only the result is allocated in full.
   The division is done in double, then rounded, so u8 pixels loaded as f32 with divisor 255
   equal the u8 tensor's :float():div_(255). Integer dtypes convert as nn_store does
   (i64 saturates, u8 wraps). */
nn_tensor *nn_idx_load_as(const char *path, nn_dtype dtype, double divisor);

#endif
