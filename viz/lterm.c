/*
** viz/lterm.c: the terminal side of the binding: how viz.open chooses a backend, v:show(),
** and the hidden helpers the tests use (v:_cells, viz._kitty, viz._sixel).
*/
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "viz/graphics.h"
#include "viz/lterm.h"
#include "viz/lvalues.h"
#include "viz/term.h"

static const char *const backends[] = {"window", "terminal", "offscreen", NULL};

/* The backend of viz.open's options at idx: opts.backend, else $RELUA_VIZ, else offscreen for
   headless = true, else a window when there is a display, the terminal when standard output
   is one, offscreen otherwise. */
viz_backend viz_choose_backend(lua_State *L, int idx, const char *fn) {
  const char *name = NULL;
  if (lua_getfield(L, idx, "backend") != LUA_TNIL) {
    name = lua_tostring(L, -1);
    if (lua_type(L, -1) != LUA_TSTRING)
      viz_error(L, fn, "backend must be \"window\", \"terminal\" or \"offscreen\", got %s",
                viz_describe(L, -1));
  }
  lua_pop(L, 1);
  const char *env = getenv("RELUA_VIZ");
  if (!name && env && *env) name = env;
  if (name) {
    for (int i = 0; backends[i]; i++)
      if (strcmp(name, backends[i]) == 0)
        return i == 0 ? VIZ_BACKEND_WINDOW : i == 1 ? VIZ_BACKEND_TERMINAL : VIZ_BACKEND_OFFSCREEN;
    viz_error(L, fn, "backend must be \"window\", \"terminal\" or \"offscreen\", got \"%s\"%s",
              name, name == env ? " (from $RELUA_VIZ)" : "");
  }
  lua_getfield(L, idx, "headless");
  bool headless = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (headless) return VIZ_BACKEND_OFFSCREEN;
  if (viz_display_available()) return VIZ_BACKEND_WINDOW;
  return isatty(STDOUT_FILENO) ? VIZ_BACKEND_TERMINAL : VIZ_BACKEND_OFFSCREEN;
}

const char *viz_backend_name(const viz_view *v) {
  return v->terminal ? "terminal" : v->win || !v->headless ? "window" : "offscreen";
}

/* v:show([rows]) */
static int view_show(lua_State *L) {
  const char *fn = "v:show";
  viz_view *v = viz_check_view(L, fn);
  int rows = 0;
  if (!lua_isnoneornil(L, 2)) {
    if (!lua_isinteger(L, 2) || lua_tointeger(L, 2) < 4 || lua_tointeger(L, 2) > 500)
      viz_error(L, fn, "rows must be an integer in [4, 500], got %s", viz_describe(L, 2));
    rows = (int)lua_tointeger(L, 2);
  }
  if (!viz_term_show(v, rows)) viz_error(L, fn, "out of memory");
  return 0;
}

/* A string option of opts at idx, one of names (or def). */
static int pick(lua_State *L, int idx, const char *key, const char *const *names, int def,
                const char *fn) {
  if (lua_type(L, idx) != LUA_TTABLE) return def;
  lua_getfield(L, idx, key);
  if (lua_isnil(L, -1)) return lua_pop(L, 1), def;
  const char *s = lua_tostring(L, -1);
  for (int i = 0; s && names[i]; i++)
    if (lua_type(L, -1) == LUA_TSTRING && strcmp(s, names[i]) == 0) return lua_pop(L, 1), i;
  return viz_error(L, fn, "bad %s %s", key, viz_describe(L, -1)), def;
}

static void push_colors(lua_State *L, const viz_cells *c, bool fg) {
  lua_createtable(L, c->rows, 0);
  for (int r = 0; r < c->rows; r++) {
    lua_createtable(L, c->cols, 0);
    for (int k = 0; k < c->cols; k++) {
      const viz_cell *cell = &c->cell[(size_t)r * c->cols + k];
      lua_pushinteger(L, fg ? cell->fg : cell->bg);
      lua_rawseti(L, -2, k + 1);
    }
    lua_rawseti(L, -2, r + 1);
  }
}

/* v:_cells(cols, rows [, {glyphs = "braille" | "blocks", depth = "24bit" | "256" | "plain"}])
   -> lines, fg, bg, ansi: the text mode drawn to strings (no terminal needed). */
static int view_cells(lua_State *L) {
  const char *fn = "v:_cells";
  viz_view *v = viz_check_view(L, fn);
  int cols = (int)luaL_checkinteger(L, 2), rows = (int)luaL_checkinteger(L, 3);
  if (cols < 1 || rows < 1 || cols > 1000 || rows > 1000) viz_error(L, fn, "bad size");
  static const char *const glyphs[] = {"braille", "blocks", NULL};
  static const char *const depths[] = {"plain", "256", "24bit", NULL};
  int g = pick(L, 4, "glyphs", glyphs, 0, fn), d = pick(L, 4, "depth", depths, 2, fn);
  viz_cells c = {0};
  if (!viz_cells_render(v, &c, cols, rows, (viz_glyphs)g, (viz_depth)d))
    viz_error(L, fn, "out of memory");
  viz_buf plain = {0}, ansi = {0};
  viz_cells_lines(&plain, &c, VIZ_PLAIN, false);
  viz_cells_lines(&ansi, &c, (viz_depth)d, false);
  lua_createtable(L, rows, 0);
  const char *p = plain.p ? plain.p : "";
  for (int r = 1; *p; r++) {
    const char *nl = strchr(p, '\n');
    lua_pushlstring(L, p, (size_t)(nl - p));
    lua_rawseti(L, -2, r);
    p = nl + 1;
  }
  push_colors(L, &c, true);
  push_colors(L, &c, false);
  lua_pushlstring(L, ansi.p ? ansi.p : "", ansi.n);
  viz_buf_free(&plain);
  viz_buf_free(&ansi);
  viz_cells_free(&c);
  return 4;
}

/* The w x h RGBA pixels of argument 3 (a string of 4 w h bytes). */
static const uint8_t *check_pixels(lua_State *L, const char *fn, int *w, int *h) {
  *w = (int)luaL_checkinteger(L, 1), *h = (int)luaL_checkinteger(L, 2);
  size_t n;
  const char *px = luaL_checklstring(L, 3, &n);
  if (*w < 1 || *h < 1 || n != (size_t)*w * *h * 4)
    viz_error(L, fn, "expected %d x %d RGBA pixels, got %d bytes", *w, *h, (int)n);
  return (const uint8_t *)px;
}

static bool flag(lua_State *L, int idx, const char *key) {
  if (lua_type(L, idx) != LUA_TTABLE) return false;
  lua_getfield(L, idx, key);
  bool b = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return b;
}

static int number(lua_State *L, int idx, const char *key) {
  if (lua_type(L, idx) != LUA_TTABLE) return 0;
  lua_getfield(L, idx, key);
  int n = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return n;
}

/* viz._kitty(w, h, rgba [, {id, placement, cols, rows, compress, tmux}]) -> bytes */
static int lkitty(lua_State *L) {
  int w, h;
  const uint8_t *px = check_pixels(L, "viz._kitty", &w, &h);
  viz_kitty_opts o = {(unsigned)number(L, 4, "id"), (unsigned)number(L, 4, "placement"),
                      number(L, 4, "cols"),         number(L, 4, "rows"),
                      flag(L, 4, "compress"),       flag(L, 4, "tmux")};
  viz_buf b = {0};
  bool ok = viz_kitty_encode(&b, px, w, h, &o);
  if (ok) lua_pushlstring(L, b.p, b.n);
  viz_buf_free(&b);
  if (!ok) viz_error(L, "viz._kitty", "out of memory");
  return 1;
}

/* viz._sixel(w, h, rgba [, {tmux}]) -> bytes */
static int lsixel(lua_State *L) {
  int w, h;
  const uint8_t *px = check_pixels(L, "viz._sixel", &w, &h);
  viz_buf b = {0};
  bool ok = viz_sixel_encode(&b, px, w, h, flag(L, 4, "tmux"));
  if (ok) lua_pushlstring(L, b.p, b.n);
  viz_buf_free(&b);
  if (!ok) viz_error(L, "viz._sixel", "out of memory");
  return 1;
}

/* viz._term_detect() -> {mode, glyphs, depth, tmux, cols, rows}: what the environment says
   (the terminal is not asked) */
static int lterm_detect(lua_State *L) {
  viz_term_info t;
  viz_term_detect(&t, false);
  static const char *const modes[] = {"text", "kitty", "sixel"};
  static const char *const depths[] = {"plain", "256", "24bit"};
  lua_createtable(L, 0, 6);
  lua_pushstring(L, modes[t.mode]);
  lua_setfield(L, -2, "mode");
  lua_pushstring(L, t.glyphs == VIZ_BLOCKS ? "blocks" : "braille");
  lua_setfield(L, -2, "glyphs");
  lua_pushstring(L, depths[t.depth]);
  lua_setfield(L, -2, "depth");
  lua_pushboolean(L, t.tmux);
  lua_setfield(L, -2, "tmux");
  lua_pushinteger(L, t.cols);
  lua_setfield(L, -2, "cols");
  lua_pushinteger(L, t.rows);
  lua_setfield(L, -2, "rows");
  return 1;
}

const viz_reg viz_term_methods[] = {
    {"show", view_show, "v:show([rows])",
     "Prints the view's panels once, inline at the cursor, as the terminal can show them "
     "(kitty or sixel images, else braille text in color), rows lines high (two thirds of "
     "the screen unless told); any view, a window's too."},
    {NULL, NULL, NULL, NULL},
};

const luaL_Reg viz_term_hidden[] = {{"_cells", view_cells}, {NULL, NULL}};

const luaL_Reg viz_term_functions[] = {{"_kitty", lkitty},
                                       {"_sixel", lsixel},
                                       {"_term_detect", lterm_detect},
                                       {"_term_png", viz_term_png},
                                       {NULL, NULL}};
