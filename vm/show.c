/*
** vm/show.c: how the REPL prints values.
**
** Values with __tostring (tensors, modules) print themselves. Strings are quoted, so that
** "42" and 42 look different. Tables print shallowly and readably: the sequence first, then
** the other keys sorted, nested tables down to SHOW_DEPTH, at most SHOW_ITEMS entries each:
**   {1, 2, 3}    {a = 1, b = {c = {…}}, ["x y"] = true}    {self = <cycle>}
** The text is built as a list of pieces in a Lua table and concatenated at the end, so that
** an error raised by a __tostring in the middle leaks nothing.
*/
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "vm/vm.h"

#define SHOW_DEPTH      2  /* levels of tables shown with their contents */
#define SHOW_ITEMS      30 /* entries shown per table */
#define SHOW_NESTED_LEN 60 /* a string or a __tostring inside a table is cut after this */

typedef struct {
  lua_State *L;
  int pieces; /* stack index of the table of pieces of text */
  int path;   /* stack index of the set of tables being shown, to cut cycles */
  int n;      /* number of pieces */
} out;

static void put_top(out *o) {
  lua_rawseti(o->L, o->pieces, ++o->n);
}

static void put(out *o, const char *s) {
  lua_pushstring(o->L, s);
  put_top(o);
}

static void show_value(out *o, int idx, int depth);

/* The length of s cut to at most max bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max) {
  if (len <= max) return len;
  while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
  return max;
}

/* A string in double quotes with escapes; cut after `max` bytes with an ellipsis. */
static void put_quoted(out *o, const char *s, size_t len, size_t max) {
  luaL_Buffer b;
  luaL_buffinit(o->L, &b);
  luaL_addchar(&b, '"');
  size_t shown = utf8_cut(s, len, max);
  for (size_t i = 0; i < shown; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    switch (c) {
    case '"': luaL_addstring(&b, "\\\""); break;
    case '\\': luaL_addstring(&b, "\\\\"); break;
    case '\n': luaL_addstring(&b, "\\n"); break;
    case '\t': luaL_addstring(&b, "\\t"); break;
    case '\r': luaL_addstring(&b, "\\r"); break;
    default:
      if (c < 32 || c == 127) {
        snprintf(esc, sizeof esc, "\\%d", c);
        luaL_addstring(&b, esc);
      } else
        luaL_addchar(&b, (char)c);
    }
  }
  luaL_addchar(&b, '"');
  if (shown < len) luaL_addstring(&b, "…");
  luaL_pushresult(&b);
  put_top(o);
}

/* The line that stands for a text of several lines: its last line when that is in brackets
   (a tensor's "[f32 tensor of shape {2,3}]"), else its first. Returns whether text was left
   out, which the first line alone does not say. */
static int summary_line(const char *s, size_t len, const char **from, size_t *n) {
  const char *end = s + len, *last;
  while (end > s && end[-1] == '\n') end--;
  for (last = end; last > s && last[-1] != '\n'; last--) {
  }
  if (last > s && end - last > 1 && last[0] == '[' && end[-1] == ']') {
    *from = last;
    *n = (size_t)(end - last);
    return 0;
  }
  const char *nl = memchr(s, '\n', (size_t)(end - s));
  *from = s;
  *n = nl ? (size_t)(nl - s) : (size_t)(end - s);
  return nl != NULL;
}

/* tostring(v); inside a table, its summary line cut to SHOW_NESTED_LEN bytes. */
static void put_tostring(out *o, int idx, int depth) {
  size_t len, n;
  const char *s = luaL_tolstring(o->L, idx, &len), *from;
  if (depth > 0) {
    int more = summary_line(s, len, &from, &n);
    size_t cut = utf8_cut(from, n, SHOW_NESTED_LEN);
    lua_pushlstring(o->L, from, cut);
    lua_pushstring(o->L, more || cut < n ? " …" : "");
    lua_concat(o->L, 2);
    lua_remove(o->L, -2);
  }
  put_top(o);
}

static int is_identifier(const char *s, size_t len) {
  static const char *const keywords[] = {"and",   "break", "do",       "else",  "elseif", "end",
                                         "false", "for",   "function", "goto",  "if",     "in",
                                         "local", "nil",   "not",      "or",    "repeat", "return",
                                         "then",  "true",  "until",    "while", NULL};
  if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
  for (size_t i = 1; i < len; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '_')) return 0;
  for (const char *const *k = keywords; *k; k++)
    if (strcmp(*k, s) == 0) return 0;
  return 1;
}

/* `name = `, `["a b"] = `, `[10] = ` */
static void put_key(out *o, int idx) {
  size_t len;
  if (lua_type(o->L, idx) == LUA_TSTRING) {
    const char *s = lua_tolstring(o->L, idx, &len);
    if (is_identifier(s, len)) {
      lua_pushfstring(o->L, "%s = ", s);
      put_top(o);
      return;
    }
  }
  put(o, "[");
  show_value(o, idx, SHOW_DEPTH); /* keys stay short: tables in keys show as {…} */
  put(o, "] = ");
}

static int has_metafield(lua_State *L, int idx, const char *field) {
  int type = luaL_getmetafield(L, idx, field);
  if (type != LUA_TNIL) lua_pop(L, 1);
  return type != LUA_TNIL;
}

/* Sort order of keys: numbers, then strings, then booleans, then the rest (unordered). */
static int key_rank(lua_State *L, int idx) {
  switch (lua_type(L, idx)) {
  case LUA_TNUMBER: return 0;
  case LUA_TSTRING: return 1;
  case LUA_TBOOLEAN: return 2;
  default: return 3;
  }
}

static int key_less(lua_State *L) {
  int ra = key_rank(L, 1), rb = key_rank(L, 2);
  if (ra != rb)
    lua_pushboolean(L, ra < rb);
  else if (ra <= 1)
    lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
  else if (ra == 2)
    lua_pushboolean(L, !lua_toboolean(L, 1) && lua_toboolean(L, 2));
  else
    lua_pushboolean(L, 0);
  return 1;
}

/* Pushes a sorted list of the keys of table t that are not in its sequence 1..seqlen. */
static void push_other_keys(lua_State *L, int t, lua_Integer seqlen) {
  lua_Integer n = 0;
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= seqlen)
      continue;
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, ++n);
  }
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "table");
  lua_remove(L, -2);
  if (lua_istable(L, -1))
    lua_getfield(L, -1, "sort");
  else
    lua_pushnil(L);
  lua_remove(L, -2);
  if (lua_isfunction(L, -1)) { /* table.sort(keys, key_less) */
    lua_pushvalue(L, -2);
    lua_pushcfunction(L, key_less);
    lua_call(L, 2, 0);
  } else
    lua_pop(L, 1);
}

static void put_separator(out *o, int *first) {
  if (!*first) put(o, ", ");
  *first = 0;
}

static void show_table(out *o, int t, int depth) {
  lua_State *L = o->L;
  lua_pushvalue(L, t);
  if (lua_rawget(L, o->path) != LUA_TNIL) {
    lua_pop(L, 1);
    put(o, "<cycle>");
    return;
  }
  lua_pop(L, 1);
  int name = luaL_getmetafield(L, t, "__name");
  if (name == LUA_TSTRING)
    put_top(o); /* an instance of a named class: the name before the braces */
  else if (name != LUA_TNIL)
    lua_pop(L, 1);
  lua_pushnil(L);
  int empty = !lua_next(L, t);
  if (!empty) lua_pop(L, 2);
  if (empty || depth >= SHOW_DEPTH) {
    put(o, empty ? "{}" : "{…}");
    return;
  }
  lua_pushvalue(L, t);
  lua_pushboolean(L, 1);
  lua_rawset(L, o->path);

  put(o, "{");
  lua_Integer seqlen = (lua_Integer)lua_rawlen(L, t), shown = 0;
  int first = 1;
  for (lua_Integer i = 1; i <= seqlen && shown < SHOW_ITEMS; i++, shown++) {
    put_separator(o, &first);
    lua_rawgeti(L, t, i);
    show_value(o, -1, depth + 1);
    lua_pop(L, 1);
  }
  push_other_keys(L, t, seqlen);
  lua_Integer nkeys = (lua_Integer)lua_rawlen(L, -1);
  for (lua_Integer i = 1; i <= nkeys && shown < SHOW_ITEMS; i++, shown++) {
    put_separator(o, &first);
    lua_rawgeti(L, -1, i);
    put_key(o, -1);
    lua_rawget(L, t);
    show_value(o, -1, depth + 1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (seqlen + nkeys > shown) {
    lua_pushfstring(L, ", …%I more", (LUA_INTEGER)(seqlen + nkeys - shown));
    put_top(o);
  }
  put(o, "}");

  lua_pushvalue(L, t);
  lua_pushnil(L);
  lua_rawset(L, o->path);
}

static void show_value(out *o, int idx, int depth) {
  idx = lua_absindex(o->L, idx);
  switch (lua_type(o->L, idx)) {
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(o->L, idx, &len);
    put_quoted(o, s, len, depth > 0 ? SHOW_NESTED_LEN : len);
    break;
  }
  case LUA_TTABLE:
    if (!has_metafield(o->L, idx, "__tostring")) {
      show_table(o, idx, depth);
      break;
    }
    /* fall through */
  default: put_tostring(o, idx, depth);
  }
}

int relua_show(lua_State *L) {
  int n = lua_gettop(L);
  out o = {L, n + 1, n + 2, 0};
  lua_newtable(L);
  lua_newtable(L);
  for (int i = 1; i <= n; i++) {
    if (i > 1) put(&o, "\t");
    show_value(&o, i, 0);
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= o.n; i++) {
    lua_rawgeti(L, o.pieces, i);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return 1;
}
