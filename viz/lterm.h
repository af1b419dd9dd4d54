/*
** viz/lterm.h: the terminal side of the binding (viz/lterm.c), for viz/lviz.c.
*/
#ifndef VIZ_LTERM_H
#define VIZ_LTERM_H

#include <lauxlib.h>

#include "viz/lviz.h"

typedef enum viz_backend {
  VIZ_BACKEND_WINDOW,
  VIZ_BACKEND_TERMINAL,
  VIZ_BACKEND_OFFSCREEN
} viz_backend;

/* The backend viz.open's options (the table at idx) ask for; raises fn's error when bad. */
viz_backend viz_choose_backend(lua_State *L, int idx, const char *fn);
/* "window", "terminal" or "offscreen" */
const char *viz_backend_name(const viz_view *v);

extern const viz_reg viz_term_methods[];    /* documented methods */
extern const luaL_Reg viz_term_hidden[];    /* methods for tests */
extern const luaL_Reg viz_term_functions[]; /* module functions for tests */

/* viz._term_png(text, cols, rows, path) (viz/termshot.c) */
int viz_term_png(lua_State *L);

#endif
