/*
** viz/sparsity.h: the sparsity panel, layers x time.
**
** Each call adds one column: for every named layer, the fraction of its activations that are
** exactly zero (0..1) and its count of dead units (-1: unknown). Layers are rows, in the
** order they first appear; a layer missing from a column has no data there. The panel draws
** the fractions as a heatmap with a color bar, and each layer's latest fraction and dead
** count as text. The colors span the range of the fractions shown (at least 10 points wide),
** not 0..1, so that the change of a layer's sparsity over training shows; the bar says the
** range.
*/
#ifndef VIZ_SPARSITY_H
#define VIZ_SPARSITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "viz/canvas.h"

typedef struct viz_layer {
  char *name;
  double *frac;  /* per column; NaN: no data */
  int64_t *dead; /* per column; -1: unknown */
} viz_layer;

typedef struct viz_sparsity {
  viz_layer *layers;
  int n, cap;
  double *steps; /* per column */
  size_t ncol, colcap;
} viz_sparsity;

void viz_sparsity_init(viz_sparsity *s);
void viz_sparsity_free(viz_sparsity *s);
/* Adds a column; dead may be NULL. -1 when out of memory (no column is added then, though
   new layers may be, without data). */
int viz_sparsity_add(viz_sparsity *s, int n, const char *const *names, const double *frac,
                     const int64_t *dead, double step);
bool viz_sparsity_has_data(const viz_sparsity *s);
void viz_sparsity_draw(const viz_sparsity *s, viz_canvas *c, viz_rect r);

#endif
