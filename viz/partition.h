/*
** viz/partition.h: the partition panel, a 2-D grid of activation-pattern ids.
**
** The grid samples a plane: ids[i * w + j] is the pattern at x_j, y_i, where x runs over
** xlim in w evenly spaced samples (column 0 at xlim[0], the last at xlim[1]) and y over ylim
** in h (row 0 at ylim[0], drawn at the bottom). Each sample is drawn as the cell around it. Each
*region (one id) gets a color of its own, derived from the id so
** that it keeps it from frame to frame; lines mark where neighbouring ids differ, a thick dark
** line where the predicted class changes, and data points sit on top, colored by label.
*/
#ifndef VIZ_PARTITION_H
#define VIZ_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include "viz/canvas.h"

typedef struct viz_partition {
  int64_t *ids; /* h * w, row-major; NULL: nothing to draw */
  int h, w;
  int64_t *classes; /* h * w predicted classes, or NULL */
  double xlim[2], ylim[2];
  double *points;  /* npoints (x, y) pairs */
  int64_t *labels; /* npoints labels (1-based classes; 0: none), or NULL */
  int npoints;
  int64_t regions; /* given (an exact count), or 0: the distinct ids, counted when set */
  char *title;     /* NULL: "ReLU partition" */
} viz_partition;

void viz_partition_init(viz_partition *p);
void viz_partition_free(viz_partition *p);
/* Replaces p's contents by fresh's (taken over: fresh is left empty); counts the regions
   unless fresh->regions gives them.
   -1 when out of memory (p is then unchanged and fresh still owns its arrays). */
int viz_partition_set(viz_partition *p, viz_partition *fresh);
bool viz_partition_has_data(const viz_partition *p);
void viz_partition_draw(const viz_partition *p, viz_canvas *c, viz_rect r);

#endif
