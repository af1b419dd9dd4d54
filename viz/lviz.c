/*
** viz/lviz.c: luaopen_viz, the view object and its lifecycle, docs, and the REPL idle hook.
**
**   local viz = require "viz"
**   local v = viz.open{title = "run", width = 960, height = 600, headless = false}
**   v:plot("train", step, loss); v:update(); v:save("view.png"); v:close()
**
** A view is a full userdata holding a viz_view (viz/view.h). Docs go to nn.document, so
** help(viz.open) and help("Live view") work; nn's docs table is also viz._docs. When relua's
*`relua` table exists, the first window chains a
** handler into relua.on_idle that keeps every window drawn while the prompt waits.
** The Lua half, stdlib/viz/view.lua, runs last when it is on package.path (nn puts stdlib
** there), with the module table as argument; it may add methods to viz.View.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "viz/lterm.h"
#include "viz/lviz.h"
#include "viz/lvalues.h"
#include "viz/png.h"
#include "viz/term.h"
#include "viz/text.h"
#include "viz/window.h"

#define TOPIC      "Live view"
#define MAX_SIDE   16384
#define IDLE_KEY   "viz.idle"   /* registry: our relua.on_idle closure */
#define MODULE_KEY "viz.module" /* registry: the module table, made once per state */

/* ---- docs: collected as {name, fn, sig, doc} entries and handed to nn.document, so that
   help(viz.open) and help("Live view") work (without nn, viz works undocumented) ---- */

/* Sets the functions of regs into the table on top, and appends their doc entries to the
   list at index entries. */
static void register_all(lua_State *L, const viz_reg *regs, int entries) {
  for (const viz_reg *r = regs; r->name; r++) {
    lua_pushcfunction(L, r->func);
    lua_createtable(L, 4, 0);
    lua_pushstring(L, r->name);
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, 2);
    lua_pushstring(L, r->sig);
    lua_rawseti(L, -2, 3);
    lua_pushstring(L, r->doc);
    lua_rawseti(L, -2, 4);
    lua_rawseti(L, entries, (lua_Integer)lua_rawlen(L, entries) + 1);
    lua_setfield(L, -2, r->name);
  }
}

/* nn.document(TOPIC, entries), when nn is loaded; viz._docs is then nn's docs table. */
static void document_all(lua_State *L, int module, int entries) {
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "nn") == LUA_TTABLE && lua_getfield(L, -1, "document") == LUA_TFUNCTION) {
    lua_pushstring(L, TOPIC);
    lua_pushvalue(L, entries);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) lua_pop(L, 1);
    if (lua_getfield(L, LUA_REGISTRYINDEX, "nn.docs") == LUA_TTABLE)
      lua_setfield(L, module, "_docs");
    else
      lua_pop(L, 1);
  } else {
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
}

/* ---- the view object ---- */

viz_view *viz_check_view(lua_State *L, const char *fn) {
  viz_view *v = luaL_testudata(L, 1, VIZ_VIEW_META);
  if (!v)
    viz_error(L, fn, "expected a view as self (call it as v:method(...)), got %s",
              viz_describe(L, 1));
  return v;
}

/* relua.on_idle: keeps every window drawn, then runs the handler that was there before. */
static int on_idle(lua_State *L) {
  viz_update_all();
  if (lua_type(L, lua_upvalueindex(1)) == LUA_TFUNCTION) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_call(L, 0, 0);
  }
  return 0;
}

/* Chains on_idle into relua.on_idle, unless it is there already (or there is no relua). */
static void install_idle(lua_State *L) {
  if (lua_getglobal(L, "relua") != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  lua_getfield(L, -1, "on_idle");
  lua_getfield(L, LUA_REGISTRYINDEX, IDLE_KEY);
  if (lua_isnil(L, -1) || !lua_rawequal(L, -1, -2)) { /* not ours (or nothing) there */
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, on_idle, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, IDLE_KEY);
    lua_setfield(L, -4, "on_idle");
  }
  lua_pop(L, 3);
}

/* A positive integer option of opts (def when absent). */
static int size_option(lua_State *L, const char *key, int def) {
  if (lua_getfield(L, 1, key) == LUA_TNIL) {
    lua_pop(L, 1);
    return def;
  }
  if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
    viz_error(L, "viz.open", "%s must be a positive integer, got %s", key, viz_describe(L, -1));
  if (lua_tointeger(L, -1) > MAX_SIDE)
    viz_error(L, "viz.open", "%s must be at most %d, got %s", key, MAX_SIDE, viz_describe(L, -1));
  int v = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

/* viz.open{title, width, height, headless, backend, rows, keys} */
static int viz_open(lua_State *L) {
  const char *fn = "viz.open";
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  if (lua_type(L, 1) != LUA_TTABLE)
    viz_error(L, fn, "options must be a table, got %s", viz_describe(L, 1));
  static const char *const known[] = {"title",   "width", "height", "headless",
                                      "backend", "rows",  "keys",   NULL};
  viz_check_options(L, 1, fn, known);
  int w = size_option(L, "width", 960), h = size_option(L, "height", 600);
  const char *title = "relua";
  if (lua_getfield(L, 1, "title") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      viz_error(L, fn, "title must be a string, got %s", viz_describe(L, -1));
    title = lua_tostring(L, -1);
  }
  int ht = lua_getfield(L, 1, "headless");
  if (ht != LUA_TNIL && ht != LUA_TBOOLEAN)
    viz_error(L, fn, "headless must be true or false, got %s", viz_describe(L, -1));
  lua_pop(L, 1);
  viz_backend backend = viz_choose_backend(L, 1, fn);
  int rows = 0;
  if (lua_getfield(L, 1, "rows") != LUA_TNIL) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 4 || lua_tointeger(L, -1) > 1000)
      viz_error(L, fn, "rows must be an integer in [4, 1000], got %s", viz_describe(L, -1));
    rows = (int)lua_tointeger(L, -1);
  }
  int kt = lua_getfield(L, 1, "keys");
  if (kt != LUA_TNIL && kt != LUA_TBOOLEAN)
    viz_error(L, fn, "keys must be true or false, got %s", viz_describe(L, -1));
  bool keys = lua_toboolean(L, -1);
  viz_view *v = lua_newuserdatauv(L, sizeof *v, 0);
  memset(v, 0, sizeof *v);
  v->closed = true; /* until opened: __gc of a half-made view has nothing to free */
  luaL_setmetatable(L, VIZ_VIEW_META);
  char err[256];
  if (viz_view_open(v, title, w, h, backend != VIZ_BACKEND_WINDOW, err, sizeof err) < 0)
    viz_error(L, fn, "%s", err);
  if (backend == VIZ_BACKEND_TERMINAL && !viz_term_open(v, rows, keys, err, sizeof err))
    fprintf(stderr, "viz: %s; drawing offscreen\n", err);
  if (v->win || v->term) install_idle(L);
  return 1;
}

static int viz_available(lua_State *L) {
  lua_pushboolean(L, viz_display_available());
  return 1;
}

static int viz_update_all_views(lua_State *L) {
  (void)L;
  viz_update_all();
  return 0;
}

static int view_update(lua_State *L) {
  lua_pushboolean(L, viz_view_update(viz_check_view(L, "v:update")));
  return 1;
}

static int view_wait(lua_State *L) {
  const char *fn = "v:wait";
  viz_view *v = viz_check_view(L, fn);
  double seconds = 0.1;
  if (!lua_isnoneornil(L, 2)) {
    seconds = lua_tonumber(L, 2);
    if (lua_type(L, 2) != LUA_TNUMBER || !(seconds >= 0 && seconds <= 3600))
      viz_error(L, fn, "seconds must be a number in [0, 3600], got %s", viz_describe(L, 2));
  }
  lua_pushboolean(L, viz_view_wait(v, seconds));
  return 1;
}

static int view_linger(lua_State *L) {
  const char *fn = "v:linger";
  viz_view *v = viz_check_view(L, fn);
  double seconds = lua_tonumber(L, 2);
  if (lua_type(L, 2) != LUA_TNUMBER || !(seconds >= 0 && seconds <= 3600))
    viz_error(L, fn, "seconds must be a number in [0, 3600], got %s", viz_describe(L, 2));
  lua_pushboolean(L, viz_view_linger(v, seconds));
  return 1;
}

static int view_save(lua_State *L) {
  const char *fn = "v:save";
  viz_view *v = viz_check_view(L, fn);
  char buf[64], err[512];
  const char *path = buf;
  if (lua_isnoneornil(L, 2))
    viz_default_path(buf, sizeof buf);
  else if (lua_type(L, 2) == LUA_TSTRING)
    path = lua_tostring(L, 2);
  else
    viz_error(L, fn, "path must be a string, got %s", viz_describe(L, 2));
  if (viz_view_save(v, path, err, sizeof err) < 0) viz_error(L, fn, "%s", err);
  lua_pushstring(L, path);
  return 1;
}

static int view_close(lua_State *L) {
  viz_view_close(viz_check_view(L, "v:close"));
  return 0;
}

static int view_gc(lua_State *L) {
  viz_view *v = luaL_checkudata(L, 1, VIZ_VIEW_META);
  viz_view_free(v);
  return 0;
}

static int view_tostring(lua_State *L) {
  viz_view *v = luaL_checkudata(L, 1, VIZ_VIEW_META);
  char term[128];
  if (v->term) return lua_pushfstring(L, "viz.View %s", viz_term_tostring(v, term, sizeof term)), 1;
  const char *state = v->win ? "window" : v->closed ? "closed" : "offscreen";
  lua_pushfstring(L, "viz.View %dx%d (%s)", v->w, v->h, state);
  return 1;
}

/* v.paused (true only while a window is there to resume it), v.headless, v.closed, v.width,
   v.height, v.title, v.frames (redraws of the window); then the methods. */
static int view_index(lua_State *L) {
  viz_view *v = luaL_checkudata(L, 1, VIZ_VIEW_META);
  const char *key = lua_tostring(L, 2);
  if (key && lua_type(L, 2) == LUA_TSTRING) {
    if (strcmp(key, "paused") == 0) return lua_pushboolean(L, v->paused && (v->win || v->term)), 1;
    if (strcmp(key, "backend") == 0) return lua_pushstring(L, viz_backend_name(v)), 1;
    if (strcmp(key, "headless") == 0) return lua_pushboolean(L, v->headless), 1;
    if (strcmp(key, "closed") == 0) return lua_pushboolean(L, v->closed), 1;
    if (strcmp(key, "width") == 0) return lua_pushinteger(L, v->w), 1;
    if (strcmp(key, "height") == 0) return lua_pushinteger(L, v->h), 1;
    if (strcmp(key, "frames") == 0) return lua_pushinteger(L, v->frames), 1;
    if (strcmp(key, "title") == 0) return lua_pushstring(L, v->title ? v->title : ""), 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int view_newindex(lua_State *L) {
  viz_view *v = luaL_checkudata(L, 1, VIZ_VIEW_META);
  const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  if (!key || strcmp(key, "paused") != 0)
    viz_error(L, "viz.View", "only v.paused can be set, not %s", viz_describe(L, 2));
  viz_view_set_paused(v, lua_toboolean(L, 3));
  return 0;
}

/* ---- test helpers ---- */

static int view_screenshot(lua_State *L) {
  const char *fn = "v:_screenshot";
  viz_view *v = viz_check_view(L, fn);
  const char *path = luaL_checkstring(L, 2);
  char err[512];
  if (viz_view_screenshot(v, path, err, sizeof err) < 0) viz_error(L, fn, "%s", err);
  lua_pushstring(L, path);
  return 1;
}

static int view_key(lua_State *L) {
  const char *fn = "v:_key";
  viz_view *v = viz_check_view(L, fn);
  const char *k = luaL_checkstring(L, 2);
  if (viz_view_push_key(v, k[0]) < 0) viz_error(L, fn, "the view has no window");
  return 0;
}

/* v:_clock(seconds): the windows' clock reads that from now on; v:_clock() the real one */
static int view_clock(lua_State *L) {
  viz_check_view(L, "v:_clock");
  viz_test_clock(lua_isnoneornil(L, 2) ? -1 : luaL_checknumber(L, 2));
  return 0;
}

static int view_close_button(lua_State *L) {
  const char *fn = "v:_close_button";
  if (viz_view_push_close(viz_check_view(L, fn)) < 0) viz_error(L, fn, "the view has no window");
  return 0;
}

static int view_resize(lua_State *L) {
  const char *fn = "v:_resize";
  viz_view *v = viz_check_view(L, fn);
  int w = (int)luaL_checkinteger(L, 2), h = (int)luaL_checkinteger(L, 3);
  if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE) viz_error(L, fn, "bad size %dx%d", w, h);
  if (viz_view_resize_window(v, w, h) < 0) viz_error(L, fn, "the view has no window");
  return 0;
}

typedef struct trace {
  lua_State *L;
  int table, n;
} trace;

/* Called while drawing: nothing here may raise (the canvas would be left half-drawn), so
   the strings are stored with the non-raising raw API under a checked stack. */
static void trace_text(void *ud, const char *s, int x, int y) {
  trace *t = ud;
  if (!lua_checkstack(t->L, 4)) return;
  lua_createtable(t->L, 3, 0);
  lua_pushstring(t->L, s);
  lua_rawseti(t->L, -2, 1);
  lua_pushinteger(t->L, x);
  lua_rawseti(t->L, -2, 2);
  lua_pushinteger(t->L, y);
  lua_rawseti(t->L, -2, 3);
  lua_rawseti(t->L, t->table, ++t->n);
}

/* v:_texts() -> {{text, x, y}, ...}: draws the view and lists every string drawn. */
static int view_texts(lua_State *L) {
  viz_view *v = viz_check_view(L, "v:_texts");
  lua_newtable(L);
  trace t = {L, lua_gettop(L), 0};
  viz_text_trace(trace_text, &t);
  viz_view_render(v);
  viz_text_trace(NULL, NULL);
  return 1;
}

typedef struct image {
  int w, h;
  uint8_t px[];
} image;

static int image_get(lua_State *L) {
  image *im = lua_touserdata(L, lua_upvalueindex(1));
  lua_Integer x = luaL_checkinteger(L, 1), y = luaL_checkinteger(L, 2);
  if (x < 1 || y < 1 || x > im->w || y > im->h)
    viz_error(L, "viz._read_png", "pixel (%d, %d) is outside the %dx%d image", (int)x, (int)y,
              im->w, im->h);
  const uint8_t *p = im->px + (((size_t)y - 1) * im->w + (size_t)x - 1) * 4;
  for (int i = 0; i < 4; i++) lua_pushinteger(L, p[i]);
  return 4;
}

/* viz._read_png(path) -> width, height, get, where get(x, y) -> r, g, b, a (1-based). */
static int viz_read_png(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char err[512];
  int w, h;
  uint8_t *px = viz_png_read(path, &w, &h, err, sizeof err);
  if (!px) viz_error(L, "viz._read_png", "%s", err);
  size_t bytes = (size_t)w * (size_t)h * 4;
  image *im = lua_newuserdatauv(L, sizeof *im + bytes, 0); /* on failure px leaks: rare */
  im->w = w, im->h = h;
  memcpy(im->px, px, bytes);
  free(px);
  lua_pushinteger(L, w);
  lua_pushinteger(L, h);
  lua_pushvalue(L, -3);
  lua_pushcclosure(L, image_get, 1);
  return 3;
}

/* ---- the module ---- */

/* Frees what the module keeps outside of views (fonts, the text cache, SDL) when the state
   closes: a userdata made when the module opens is finalized after every view made later,
   and before the C library itself is unloaded. */
static int shutdown(lua_State *L) {
  (void)L;
  viz_text_shutdown();
  viz_window_shutdown();
  return 0;
}

static void make_sentinel(lua_State *L) {
  lua_newuserdatauv(L, 1, 0);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, shutdown);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, "viz.sentinel");
}

static const viz_reg functions[] = {
    {"open", viz_open,
     "viz.open{title, width, height, headless, backend = \"window\" | \"terminal\" | "
     "\"offscreen\", rows, keys} -> v",
     "Opens a live view (960x600 unless told): a window when there is a display, else in "
     "the terminal when standard output is one (its bottom rows, or `rows` of them; keys "
     "p and q when keys = true), else an offscreen canvas (headless = true too); "
     "$RELUA_VIZ=window|terminal|offscreen overrides the choice and $RELUA_VIZ_TERM="
     "kitty|sixel|text|blocks the terminal's mode. print(v) names the backend and size."},
    {"available", viz_available, "viz.available() -> boolean",
     "Whether a window can be opened (a display is there and SDL starts on it)."},
    {"update_all", viz_update_all_views, "viz.update_all()",
     "Handles window events and redraws every open view that is due (the REPL does it while "
     "it waits)."},
    {NULL, NULL, NULL, NULL},
};

static const viz_reg methods[] = {
    {"update", view_update, "v:update() -> open",
     "Handles window events and redraws when data changed (at most 30 times a second); "
     "false once the view is closed."},
    {"wait", view_wait, "v:wait([seconds]) -> paused",
     "While the window is paused (key p), handles its events for up to seconds (0.1); "
     "returns whether it is still paused."},
    {"linger", view_linger, "v:linger(seconds) -> open",
     "Idles for up to seconds, or until the window is closed (q), keeping it drawn (at once "
     "when the data changed) and answering keys: the end of a script, or a pace for an "
     "animation; returns at once without a window."},
    {"save", view_save, "v:save([path]) -> path",
     "Draws the view and writes it as PNG (atomically), to relua-view-<n>.png by default."},
    {"close", view_close, "v:close()",
     "Closes the window; the data stays, and v:save still draws it."},
    {NULL, NULL, NULL, NULL},
};

/* for tests only: not documented */
static const luaL_Reg hidden_methods[] = {
    {"_screenshot", view_screenshot},
    {"_key", view_key},
    {"_close_button", view_close_button},
    {"_resize", view_resize},
    {"_texts", view_texts},
    {"_clock", view_clock},
    {NULL, NULL},
};

/* The metatable of views, with the methods table as upvalue of __index. */
static void make_metatable(lua_State *L, int entries) {
  luaL_newmetatable(L, VIZ_VIEW_META);
  lua_newtable(L); /* the methods */
  register_all(L, methods, entries);
  register_all(L, viz_panel_methods, entries);
  register_all(L, viz_term_methods, entries);
  luaL_setfuncs(L, hidden_methods, 0);
  luaL_setfuncs(L, viz_term_hidden, 0);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "methods");
  lua_pushcclosure(L, view_index, 1);
  lua_setfield(L, -2, "__index");
  static const luaL_Reg meta[] = {{"__newindex", view_newindex},
                                  {"__gc", view_gc},
                                  {"__close", view_close},
                                  {"__tostring", view_tostring},
                                  {NULL, NULL}};
  luaL_setfuncs(L, meta, 0);
}

/* Runs stdlib/viz/view.lua with the module (on top) when it can be found: nn puts stdlib on
   package.path, so nn is required first (if it is there at all). */
static void load_lua_half(lua_State *L) {
  int top = lua_gettop(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "nn");
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) lua_pop(L, 1); /* viz works without nn */
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchpath");
  lua_pushliteral(L, "viz.view");
  lua_getfield(L, -3, "path");
  if (lua_type(L, -3) != LUA_TFUNCTION || lua_pcall(L, 2, 1, 0) != LUA_OK || !lua_isstring(L, -1)) {
    lua_settop(L, top);
    return;
  }
  if (luaL_loadfile(L, lua_tostring(L, -1)) != LUA_OK) lua_error(L);
  lua_pushvalue(L, top);
  lua_call(L, 1, 0);
  lua_settop(L, top);
}

int luaopen_viz(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, MODULE_KEY) == LUA_TTABLE) return 1;
  lua_pop(L, 1);
  make_sentinel(L);
  lua_newtable(L);
  int entries = lua_gettop(L);
  lua_newtable(L);
  int module = lua_gettop(L);
  register_all(L, functions, entries);
  lua_pushcfunction(L, viz_read_png);
  lua_setfield(L, -2, "_read_png");
  luaL_setfuncs(L, viz_term_functions, 0);
  make_metatable(L, entries);
  lua_getfield(L, -1, "methods");
  lua_setfield(L, -3, "View"); /* viz.View: the methods, for the Lua half to extend */
  lua_pop(L, 1);
  load_lua_half(L); /* requires nn first; when it fails, the next require tries again */
  document_all(L, module, entries);
  lua_remove(L, entries);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, MODULE_KEY);
  return 1;
}
