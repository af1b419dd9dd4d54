/*
** nn/lua/ldoc.c: registering functions with their docs, and naming them in errors.
**
** The docs are data in one Lua table (registry "nn.docs", also nn._docs), shared with the
** Lua side (stdlib/nn/help.lua reads it and lets Lua modules add to it):
**
**   docs.byfn[f]       = {name=, fname=, sig=, doc=, topic=, fn=, where=}
**                        (name "zeros", fname "nn.zeros"; where: function, method, both)
**   docs.topics        = {"Creation", "Shape and views", ...}        in registration order
**   docs.bytopic[name] = {entry, entry, ...}
**
** The same table names a running C function in its error messages: lnn_fname finds the
** function on the call stack and looks it up, so a function shared by nn.add, x:add and the
** metamethod __add reports itself as "nn.add" however it was called.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "nn/lua/lnn.h"

/* ---- errors ---- */

const char *lnn_fname(lua_State *L) {
  lua_Debug ar;
  if (!lua_getstack(L, 0, &ar) || !lua_getinfo(L, "nf", &ar)) return "nn";
  lua_getfield(L, LUA_REGISTRYINDEX, "nn.docs");
  if (lua_istable(L, -1) && lua_getfield(L, -1, "byfn") == LUA_TTABLE) {
    lua_pushvalue(L, -3);
    if (lua_rawget(L, -2) == LUA_TTABLE && lua_getfield(L, -1, "fname") == LUA_TSTRING)
      return lua_tostring(L, -1);
  }
  return ar.name ? lua_pushfstring(L, "nn.%s", ar.name) : "nn";
}

/* The message starts with the function's name, as the API promises: no "file:line:" in
   front (luaL_error would add the caller's position; tracebacks show it). */
static int raise(lua_State *L, const char *fname, const char *msg) {
  lua_pushfstring(L, "%s: %s", fname, msg);
  return lua_error(L);
}

int lnn_error(lua_State *L, const char *fname) {
  return raise(L, fname ? fname : lnn_fname(L), nn_errmsg());
}

int lnn_errorf(lua_State *L, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return raise(L, lnn_fname(L), msg);
}

/* Arguments are counted as the user wrote them: in x:view(2, "a") the "a" is argument 2. */
int lnn_argerror(lua_State *L, int arg, const char *expected) {
  lua_Debug ar;
  int shown = arg;
  if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar) && strcmp(ar.namewhat, "method") == 0)
    shown--; /* x:f(a) is f(x, a) */
  const char *got = luaL_typename(L, arg);
  if (lua_type(L, arg) == LUA_TNUMBER) { /* 2.5 where an integer was due */
    lua_pushvalue(L, arg);
    got = lua_tostring(L, -1);
  } else if (luaL_getmetafield(L, arg, "__name") == LUA_TSTRING)
    got = lua_tostring(L, -1);
  if (shown == 0) return lnn_errorf(L, "the object must be %s, got %s", expected, got);
  return lnn_errorf(L, "argument %d must be %s, got %s", shown, expected,
                    lua_isnone(L, arg) ? "nothing" : got);
}

/* ---- docs ---- */

/* Pushes the docs table, creating it on first use. */
static void push_docs(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, "nn.docs") == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 3);
  lua_newtable(L);
  lua_setfield(L, -2, "byfn");
  lua_newtable(L);
  lua_setfield(L, -2, "topics");
  lua_newtable(L);
  lua_setfield(L, -2, "bytopic");
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "nn.docs");
}

void lnn_open_docs(lua_State *L) {
  push_docs(L);
  lua_pop(L, 1);
}

/* docs.byfn[f] = entry, for the function at fidx and the entry on top (both stay). */
static void set_byfn(lua_State *L, int fidx, int docs) {
  lua_getfield(L, docs, "byfn");
  lua_pushvalue(L, fidx);
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

/* Appends the entry on top to docs.bytopic[topic], adding the topic when new. */
static void add_to_topic(lua_State *L, const char *topic, int docs) {
  lua_getfield(L, docs, "bytopic");
  if (lua_getfield(L, -1, topic) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, topic);
    lua_getfield(L, docs, "topics");
    lua_pushstring(L, topic);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
  }
  lua_pushvalue(L, -3);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  lua_pop(L, 2);
}

static void document(lua_State *L, int fidx, const char *topic, int where, const lnn_reg *r) {
  fidx = lua_absindex(L, fidx);
  push_docs(L);
  int docs = lua_gettop(L);
  lua_createtable(L, 0, 6);
  lua_pushstring(L, r->name);
  lua_setfield(L, -2, "name");
  lua_pushfstring(L, "nn.%s", r->name);
  lua_setfield(L, -2, "fname");
  lua_pushstring(L, r->sig);
  lua_setfield(L, -2, "sig");
  lua_pushstring(L, r->doc);
  lua_setfield(L, -2, "doc");
  lua_pushstring(L, topic);
  lua_setfield(L, -2, "topic");
  lua_pushstring(L, where == LNN_BOTH ? "both" : where == LNN_METHOD ? "method" : "function");
  lua_setfield(L, -2, "where");
  lua_pushvalue(L, fidx);
  lua_setfield(L, -2, "fn");
  set_byfn(L, fidx, docs);
  add_to_topic(L, topic, docs);
  lua_pop(L, 2);
}

void lnn_name_function(lua_State *L, int idx, const char *fname) {
  idx = lua_absindex(L, idx);
  push_docs(L);
  int docs = lua_gettop(L);
  lua_createtable(L, 0, 1);
  lua_pushstring(L, fname);
  lua_setfield(L, -2, "fname");
  set_byfn(L, idx, docs);
  lua_pop(L, 2);
}

/* ---- registration ---- */

static void set_in(lua_State *L, const char *table, const char *name) {
  lua_getfield(L, LUA_REGISTRYINDEX, table);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

void lnn_register_top(lua_State *L, const char *topic, int where, const lnn_reg *r) {
  if (where & LNN_FUNC) set_in(L, "nn.module", r->name);
  if (where & LNN_METHOD) set_in(L, "nn.methods", r->name);
  document(L, -1, topic, where, r);
  lua_pop(L, 1);
}

void lnn_register(lua_State *L, const char *topic, int where, const lnn_reg *regs) {
  for (const lnn_reg *r = regs; r->name; r++) {
    lua_pushcfunction(L, r->func);
    lnn_register_top(L, topic, where, r);
  }
}

static void set_accessor(lua_State *L, const char *table, const char *name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  set_in(L, table, name);
  lua_pop(L, 1);
}

void lnn_getter(lua_State *L, const char *name, lua_CFunction f) {
  set_accessor(L, "nn.getters", name, f);
}

void lnn_setter(lua_State *L, const char *name, lua_CFunction f) {
  set_accessor(L, "nn.setters", name, f);
}
