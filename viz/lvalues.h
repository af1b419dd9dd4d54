/*
** viz/lvalues.h: Lua values (numbers, tables, nn tensors) read into C arrays, for the viz
** binding, with errors that name the function.
**
** viz is not linked with the nn core: tensors are recognized and read through the C API the
** nn binding publishes in the registry (nn/lua/lnn_capi.h), and their elements are read here
** from the struct's fields. Arrays live in a userdata pushed on the stack, so that an error
** half-way leaks nothing; they stay valid while it stays on the stack.
*/
#ifndef VIZ_LVALUES_H
#define VIZ_LVALUES_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

/* Raises "fn: message" (no position: the traceback shows it). */
int viz_error(lua_State *L, const char *fn, const char *fmt, ...);
/* A short description of the value at idx for messages: "-5", "a string", "a tensor". */
const char *viz_describe(lua_State *L, int idx);

/* Raises "fn: unknown option 'key' (known: a, b)" unless every key of the options table at
   idx is one of known (ended by NULL). */
void viz_check_options(lua_State *L, int idx, const char *fn, const char *const *known);

/* The value at idx as n doubles: a number, a table of numbers, or a tensor (all elements,
   row-major). Pushes the array's owner. */
double *viz_check_numbers(lua_State *L, int idx, const char *fn, const char *what, size_t *n);
/* The same as integers: integral numbers only. */
int64_t *viz_check_integers(lua_State *L, int idx, const char *fn, const char *what, size_t *n);
/* A grid of integers: a 2-D tensor or a table of equally long rows of integers. Pushes the
   array's owner. */
int64_t *viz_check_grid(lua_State *L, int idx, const char *fn, const char *what, int *h, int *w);
/* A matrix of doubles with `cols` columns: an n x cols tensor or a table of rows of (at least)
   cols numbers. Pushes the array's owner. */
double *viz_check_rows(lua_State *L, int idx, const char *fn, const char *what, int cols,
                       size_t *n);

/* Whether idx holds an nn tensor. */
int viz_is_tensor(lua_State *L, int idx);
/* For activations, a tensor whose first dim indexes samples and whose other elements are
   units (a tensor of 0 or 1 dims is one sample): the fraction of zero elements, and the
   number of units that are zero for every sample. Raises unless idx holds a tensor with at
   least one element. */
void viz_tensor_zeros(lua_State *L, int idx, const char *fn, const char *what, double *frac,
                      int64_t *dead);

#endif
