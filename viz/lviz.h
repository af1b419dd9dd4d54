/*
** viz/lviz.h: the Lua binding of the live view (luaopen_viz), shared by its files:
** lviz.c (the module, the view object, docs) and lpanels.c (the panels' data methods).
*/
#ifndef VIZ_LVIZ_H
#define VIZ_LVIZ_H

#include <lua.h>

#include "viz/view.h"

#define VIZ_VIEW_META "viz.View"

int luaopen_viz(lua_State *L);

/* A function with its documentation, as nn's lnn_reg: sig is "v:plot(name, x, y)" and doc
   one sentence; the name in sig (before the parenthesis) also names it in errors. */
typedef struct viz_reg {
  const char *name;
  lua_CFunction func;
  const char *sig;
  const char *doc;
} viz_reg;

/* The view at argument 1 (self), or raises "fn: ...". */
viz_view *viz_check_view(lua_State *L, const char *fn);

/* The panels' methods (lpanels.c), ended by a NULL name. */
extern const viz_reg viz_panel_methods[];

#endif
