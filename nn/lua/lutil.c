/*
** nn/lua/lutil.c: small facts about the machine that scripts need and stock Lua lacks: a
** monotonic clock (os.clock is CPU time, which counts every thread and stops while waiting)
** and whether a file is a terminal (progress bars redraw only there).
*/
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "nn/lua/lnn.h"

static int l_time(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

/* nn.isatty(fd): fd a descriptor number (1 is stdout) or an open Lua file */
static int l_isatty(lua_State *L) {
  luaL_Stream *f = luaL_testudata(L, 1, LUA_FILEHANDLE);
  int fd;
  if (f) {
    if (!f->closef) return lnn_errorf(L, "the file is closed");
    fd = fileno(f->f);
  } else {
    fd = (int)lnn_checkinteger(L, 1);
  }
  lua_pushboolean(L, fd >= 0 && isatty(fd));
  return 1;
}

static const lnn_reg utils[] = {
    {"time", l_time, "nn.time() -> seconds",
     "Wall-clock seconds from a monotonic clock (for timing; differences are what count)."},
    {"isatty", l_isatty, "nn.isatty(fd) -> boolean",
     "Whether the file descriptor (1 for stdout) or Lua file is a terminal."},
    {NULL, NULL, NULL, NULL}};

void lnn_open_util(lua_State *L) {
  lnn_register(L, "Utilities", LNN_FUNC, utils);
}
