/*
** vm/run.c: running Lua code on behalf of the user. Every call from the host goes through
** relua_docall, which adds a traceback to errors and lets Ctrl-C stop the running code:
** the SIGINT handler cannot touch the Lua state safely, so it only installs a debug hook,
** and the hook raises the error "interrupted!" at the next instruction Lua runs.
*/
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "nn/error.h"
#include "vm/vm.h"

static const char *progname = "relua";
static lua_State *running; /* the state Ctrl-C interrupts */

void relua_set_progname(const char *name) {
  progname = name;
}
const char *relua_get_progname(void) {
  return progname;
}

void relua_message(const char *msg) {
  fflush(stdout); /* keep results and errors in the order they happened */
  if (progname) fprintf(stderr, "%s: ", progname);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
}

int relua_report(lua_State *L, int status) {
  if (status != LUA_OK) {
    int top = lua_gettop(L);
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, -1));
    relua_message(msg);
    lua_settop(L, top - 1);
  }
  return status;
}

/* Turns any error object into a message with a traceback. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static void stop_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  nn_interrupt_clear();
  luaL_error(L, "interrupted!");
}

static void set_sigint(void (*handler)(int), struct sigaction *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, old);
}

static void on_sigint(int sig) {
  if (nn_interrupt_deferred && !nn_interrupt_requested) { /* nn.fit stops after its batch */
    nn_interrupt_requested = 1;
    return;
  }
  /* A second Ctrl-C ends the process: the escape when code is stuck inside C, where the hook
     never runs. */
  signal(sig, SIG_DFL);
  nn_interrupt(); /* stops the C loops of nn, which poll it */
  lua_sethook(running, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

int relua_docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg; /* the function's slot */
  lua_State *outer = running;
  struct sigaction old;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  running = L;
  set_sigint(on_sigint, &old);
  int status = lua_pcall(L, narg, nres, base);
  sigaction(SIGINT, &old, NULL);
  running = outer;
  if (lua_gethook(L) == stop_hook) lua_sethook(L, NULL, 0, 0); /* Ctrl-C after the code ended */
  nn_interrupt_clear();
  lua_remove(L, base);
  return status;
}
