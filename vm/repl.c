/*
** vm/repl.c: the read-eval-print loop.
**
** A chunk is one line, or more while the code is incomplete (the parser's message ends in
** "<eof>"). It is tried first as an expression ("return " .. chunk), then as statements, so
** `6*7` prints 42. Whatever a chunk returns is printed by show.c, tab-separated, and its first
** value is kept in the global `_`; a trailing `;` keeps the results from being printed. An
** error prints its traceback and the loop goes on. Ctrl-C stops running code (run.c) or
** drops the line being typed (input.c); Ctrl-D at the prompt leaves.
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "vm/vm.h"

#define PROMPT1  "relua> "
#define PROMPT2  "  ..> "
#define EOF_MARK "<eof>" /* how the parser ends the message of an incomplete chunk */

enum { CHUNK_MORE = -1 };                          /* compile(): needs more lines */
enum { READ_OK, READ_ERROR, READ_SKIP, READ_EOF }; /* read_chunk() */

/* Pushes the prompt: _PROMPT or _PROMPT2 when they are strings, as in lua5.4. */
static const char *push_prompt(lua_State *L, int first) {
  lua_pushglobaltable(L);
  lua_pushstring(L, first ? "_PROMPT" : "_PROMPT2");
  if (lua_rawget(L, -2) != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushstring(L, first ? PROMPT1 : PROMPT2);
  }
  lua_remove(L, -2);
  return lua_tostring(L, -1);
}

static relua_input read_line(lua_State *L, int first, char **line) {
  relua_input status = relua_input_read(L, push_prompt(L, first), line);
  lua_pop(L, 1);
  return status;
}

static int is_incomplete(lua_State *L, int status) {
  size_t len, mark = sizeof EOF_MARK - 1;
  const char *msg = lua_tolstring(L, -1, &len);
  return status == LUA_ERRSYNTAX && len >= mark && strcmp(msg + len - mark, EOF_MARK) == 0;
}

/* Compiles src as an expression, else as statements. Pushes the function (LUA_OK) or the
   statements' error message (an error status, or CHUNK_MORE when more lines could fix it).
   *quiet tells whether the code ends with `;`. */
static int compile(lua_State *L, const char *src, size_t len, int *quiet) {
  size_t end = len;
  while (end > 0 && isspace((unsigned char)src[end - 1])) end--;
  *quiet = end > 0 && src[end - 1] == ';';
  while (end > 0 && (src[end - 1] == ';' || isspace((unsigned char)src[end - 1]))) end--;
  lua_pushliteral(L, "return ");
  lua_pushlstring(L, src, end);
  lua_concat(L, 2);
  size_t exprlen;
  const char *expr = lua_tolstring(L, -1, &exprlen);
  int status = luaL_loadbuffer(L, expr, exprlen, "=stdin");
  lua_remove(L, -2);
  if (status == LUA_OK) return LUA_OK;
  int more = is_incomplete(L, status);
  lua_pop(L, 1);
  status = luaL_loadbuffer(L, src, len, "=stdin");
  if (status == LUA_OK) return LUA_OK;
  return more || is_incomplete(L, status) ? CHUNK_MORE : status;
}

/* Reads lines until they make a chunk; pushes its function (READ_OK) or its error message
   (READ_ERROR). READ_SKIP: nothing to run (an empty line, or Ctrl-C while typing). */
static int read_chunk(lua_State *L, int *quiet) {
  char *line;
  relua_input in = read_line(L, 1, &line);
  if (in != INPUT_LINE) return in == INPUT_EOF ? READ_EOF : READ_SKIP;
  if (line[strspn(line, " \t\r")] == '\0') {
    free(line);
    return READ_SKIP;
  }
  if (line[0] == '=') /* "=x" means "return x", as in lua5.4 */
    lua_pushfstring(L, "return %s", line + 1);
  else
    lua_pushstring(L, line);
  free(line);
  for (;;) {
    size_t len;
    const char *src = lua_tolstring(L, -1, &len);
    int status = compile(L, src, len, quiet);
    if (status != CHUNK_MORE) {
      relua_input_remember(src);
      lua_remove(L, -2);
      return status == LUA_OK ? READ_OK : READ_ERROR;
    }
    lua_pop(L, 1);
    in = read_line(L, 0, &line);
    if (in == INPUT_INTERRUPT) {
      lua_pop(L, 1);
      return READ_SKIP;
    }
    if (in == INPUT_EOF) { /* Ctrl-D in the middle of a chunk: report what is missing */
      relua_input_remember(src);
      luaL_loadbuffer(L, src, len, "=stdin");
      lua_remove(L, -2);
      return READ_ERROR;
    }
    lua_pushfstring(L, "\n%s", line);
    free(line);
    lua_concat(L, 2);
  }
}

/* The values above `base` are a chunk's results: `_` gets the first, and they are printed
   unless the chunk ended with `;`. */
static void show_results(lua_State *L, int base, int quiet) {
  int n = lua_gettop(L) - base;
  if (n == 0) return;
  lua_pushglobaltable(L);
  lua_pushliteral(L, "_");
  lua_pushvalue(L, base + 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  if (quiet) return;
  if (!lua_checkstack(L, 2)) {
    relua_message("too many results to print");
    return;
  }
  lua_pushcfunction(L, relua_show);
  lua_insert(L, base + 1);
  int status = relua_docall(L, n, 1);
  if (status != LUA_OK) {
    lua_pushfstring(L, "error printing the result: %s", lua_tostring(L, -1));
    lua_remove(L, -2);
    relua_report(L, status);
    return;
  }
  size_t len;
  const char *text = lua_tolstring(L, -1, &len);
  fwrite(text, 1, len, stdout);
  fputc('\n', stdout);
  fflush(stdout);
}

static int no_help(lua_State *L) {
  (void)L;
  puts("No help available: nn.help is not loaded.");
  return 0;
}

/* quit([code]) and exit([code]): os.exit(code, true), which closes the state. */
static int quit(lua_State *L) {
  lua_Integer code = luaL_optinteger(L, 1, EXIT_SUCCESS);
  relua_input_close();
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "os");
  lua_getfield(L, -1, "exit");
  lua_pushinteger(L, code);
  lua_pushboolean(L, 1);
  lua_call(L, 2, 0);
  return 0;
}

static void set_global_if_unset(lua_State *L, const char *name) {
  lua_pushglobaltable(L);
  lua_pushstring(L, name);
  if (lua_rawget(L, -2) == LUA_TNIL) {
    lua_pushstring(L, name);
    lua_pushvalue(L, -4);
    lua_rawset(L, -4);
  }
  lua_pop(L, 3);
}

/* help (nn.help when there is one), quit and exit, for the user at the prompt. Runs
   protected: nn.help may sit behind an __index. */
static int define_helpers(lua_State *L) {
  if (lua_getglobal(L, "nn") != LUA_TTABLE || lua_getfield(L, -1, "help") != LUA_TFUNCTION)
    lua_pushcfunction(L, no_help);
  set_global_if_unset(L, "help");
  lua_pushcfunction(L, quit);
  set_global_if_unset(L, "quit");
  lua_pushcfunction(L, quit);
  set_global_if_unset(L, "exit");
  return 0;
}

void relua_repl(lua_State *L) {
  const char *progname = relua_get_progname();
  int top = lua_gettop(L);
  relua_set_progname(NULL); /* errors at the prompt need no "relua:" */
  relua_input_open(L);
  lua_pushcfunction(L, define_helpers);
  relua_report(L, lua_pcall(L, 0, 0, 0));
  for (;;) {
    int quiet = 0, status = read_chunk(L, &quiet);
    if (status == READ_EOF) break;
    if (status == READ_SKIP) continue;
    if (status == READ_ERROR) {
      relua_report(L, LUA_ERRSYNTAX);
      continue;
    }
    int base = lua_gettop(L) - 1;
    status = relua_docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK)
      show_results(L, base, quiet);
    else
      relua_report(L, status);
    lua_settop(L, base);
  }
  lua_settop(L, top);
  relua_input_close();
  relua_set_progname(progname);
}
