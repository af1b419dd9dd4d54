/*
** viz/window.h: the SDL side of a view (viz/window.c), for viz/view.c.
*/
#ifndef VIZ_WINDOW_H
#define VIZ_WINDOW_H

#include <stdbool.h>

#include "viz/view.h"

/* Opens v's window (v->w x v->h, titled v->title) and shows a first frame; false when no
   window can be had (the view then stays headless). */
bool viz_window_open(viz_view *v);
/* Destroys v's window, if any. */
void viz_window_close(viz_view *v);
/* Stops SDL's video (every window must be closed first); it starts again when needed. */
void viz_window_shutdown(void);

#endif
