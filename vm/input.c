/*
** vm/input.c: lines from the user, for the REPL.
**
** On a terminal, GNU readline through its callback interface: the host owns the wait
** (ppoll on stdin), which gives it two things the blocking readline() makes awkward:
**   - Ctrl-C at the prompt: readline's own signal handling is off; our handler only sets a
**     flag, ppoll returns, and we drop the line and hand back INPUT_INTERRUPT;
**   - the idle hook: while the user types nothing, relua.on_idle (when it is a function) runs
**     about 30 times a second, e.g. to keep a viz window drawn. Unset, the wait costs nothing.
** Not on a terminal, plain reads of stdin, with the prompt still printed.
**
** History lives in $RELUA_HISTORY or ~/.relua_history. Each entry is appended to the file as
** soon as it is entered (a crashed or killed session keeps its history); entries carry
** timestamps so that multi-line chunks come back as one entry.
*/
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include <lauxlib.h>
#include <lua.h>

#include "vm/vm.h"

#define HISTORY_LINES 1000     /* the file is truncated to this many lines */
#define IDLE_NS       33333333 /* relua.on_idle about 30 times a second */

static int use_readline; /* stdin is a terminal */
static char history_path[PATH_MAX];

static volatile sig_atomic_t got_sigint, got_sigwinch;
static struct sigaction old_sigint, old_sigwinch;

static struct { /* the line handed over by readline's callback */
  int done;
  char *text;
} entered;

static void on_line(char *line) {
  entered.done = 1;
  entered.text = line;
  rl_callback_handler_remove(); /* no new prompt until we ask for one */
}

static void flag_signal(int sig) {
  if (sig == SIGINT)
    got_sigint = 1;
  else
    got_sigwinch = 1;
}

static void open_history(void) {
  const char *path = getenv("RELUA_HISTORY"), *home = getenv("HOME");
  if (path && *path)
    snprintf(history_path, sizeof history_path, "%s", path);
  else if (home && *home)
    snprintf(history_path, sizeof history_path, "%s/.relua_history", home);
  using_history();
  stifle_history(HISTORY_LINES);
  history_comment_char = '#'; /* timestamps are written as "#<seconds>" lines */
  history_write_timestamps = 1;
  history_multiline_entries = 1;
  if (history_path[0]) {
    read_history(history_path);
    history_truncate_file(history_path, HISTORY_LINES);
  }
}

/* For the whole session, not only while reading: a Ctrl-C that comes between two Lua calls
   must not end the process. */
static void catch_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = flag_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_sigint);
  sigaction(SIGWINCH, &sa, &old_sigwinch);
}

void relua_input_open(lua_State *L) {
  use_readline = isatty(STDIN_FILENO);
  if (!use_readline) return;
  rl_readline_name = "relua";
  rl_catch_signals = 0; /* Ctrl-C and resizing are ours: see read_terminal */
  rl_catch_sigwinch = 0;
  catch_signals();
  relua_complete_init(L);
  open_history();
}

void relua_input_close(void) {
  if (!use_readline) return;
  sigaction(SIGINT, &old_sigint, NULL);
  sigaction(SIGWINCH, &old_sigwinch, NULL);
  if (history_path[0]) history_truncate_file(history_path, HISTORY_LINES);
  use_readline = 0;
}

/* Adds a chunk to the history, unless it is empty or repeats the previous entry. */
void relua_input_remember(const char *chunk) {
  if (!use_readline || chunk[strspn(chunk, " \t\r\n")] == '\0') return;
  HIST_ENTRY *last = history_get(history_base + history_length - 1);
  if (last && strcmp(last->line, chunk) == 0) return;
  add_history(chunk);
  if (history_path[0] && append_history(1, history_path) != 0)
    write_history(history_path); /* no file yet */
}

/* Pushes relua.on_idle and returns 1 when it is a function; else pushes nothing. */
static int push_idle(lua_State *L) {
  lua_pushglobaltable(L);
  lua_pushliteral(L, "relua");
  if (lua_rawget(L, -2) == LUA_TTABLE) {
    lua_pushliteral(L, "on_idle");
    if (lua_rawget(L, -2) == LUA_TFUNCTION) {
      lua_replace(L, -3);
      lua_pop(L, 1);
      return 1;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
  return 0;
}

/* Runs relua.on_idle. An error unsets it: it would repeat 30 times a second. */
static void run_idle(lua_State *L) {
  if (!push_idle(L) || relua_docall(L, 0, 0) == LUA_OK) return;
  fputc('\n', stdout);
  lua_pushfstring(L, "relua.on_idle failed and is now unset: %s", lua_tostring(L, -1));
  relua_message(lua_tostring(L, -1));
  lua_pop(L, 2);
  lua_pushglobaltable(L);
  lua_pushliteral(L, "relua");
  if (lua_rawget(L, -2) == LUA_TTABLE) {
    lua_pushliteral(L, "on_idle");
    lua_pushnil(L);
    lua_rawset(L, -3);
  }
  lua_pop(L, 2);
  rl_on_new_line();
  rl_redisplay();
}

/* Ctrl-C at the prompt: drop the line, leave the cursor on a fresh line. */
static void drop_line(void) {
  got_sigint = 0;
  rl_free_line_state();
  rl_callback_sigcleanup();
  rl_point = rl_end; /* "^C" after the text, not in its middle */
  rl_redisplay();
  rl_echo_signal_char(SIGINT);
  rl_callback_handler_remove();
  fputc('\n', rl_outstream);
  fflush(rl_outstream);
}

enum { WAIT_KEY, WAIT_IDLE, WAIT_SIGNAL, WAIT_GONE };

/* Waits for a key, a signal, or (when relua.on_idle is set) the next idle tick. The handled
   signals are unblocked only inside ppoll, so none can slip in between the test of the flags
   and the wait. */
static int wait_input(lua_State *L) {
  sigset_t handled, orig;
  sigemptyset(&handled);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGWINCH);
  sigprocmask(SIG_BLOCK, &handled, &orig);
  int result = WAIT_SIGNAL;
  if (!got_sigint && !got_sigwinch) {
    struct pollfd in = {STDIN_FILENO, POLLIN, 0};
    struct timespec idle = {0, IDLE_NS};
    int has_idle = push_idle(L);
    if (has_idle) lua_pop(L, 1);
    int r = ppoll(&in, 1, has_idle ? &idle : NULL, &orig);
    if (r > 0)
      result = in.revents & POLLNVAL ? WAIT_GONE : WAIT_KEY;
    else if (r == 0)
      result = WAIT_IDLE;
    else if (errno != EINTR)
      result = WAIT_GONE;
  }
  sigprocmask(SIG_SETMASK, &orig, NULL);
  return result;
}

static relua_input read_terminal(lua_State *L, const char *prompt, char **line) {
  got_sigint = 0; /* a Ctrl-C since the last prompt came too late to stop anything */
  entered.done = 0;
  entered.text = NULL;
  relua_input status = INPUT_LINE;
  rl_callback_handler_install(prompt, on_line);
  while (!entered.done) {
    int event = wait_input(L);
    if (got_sigint) {
      drop_line();
      status = INPUT_INTERRUPT;
      break;
    }
    if (got_sigwinch) {
      got_sigwinch = 0;
      rl_resize_terminal();
    }
    if (event == WAIT_KEY)
      rl_callback_read_char();
    else if (event == WAIT_IDLE)
      run_idle(L);
    else if (event == WAIT_GONE) {
      rl_callback_handler_remove();
      entered.done = 1; /* stdin is gone: as at end of file */
    }
  }
  if (status == INPUT_INTERRUPT) return status;
  *line = entered.text;
  if (entered.text) return INPUT_LINE;
  /* At the end of input readline ends the line itself only when bracketed paste is on. */
  const char *paste = rl_variable_value("enable-bracketed-paste");
  if (!(rl_eof_found && paste && strcmp(paste, "on") == 0)) fputc('\n', rl_outstream);
  fflush(rl_outstream);
  return INPUT_EOF;
}

/* Without a terminal: print the prompt, read a line of any length. */
static relua_input read_plain(const char *prompt, char **line) {
  size_t cap = 0;
  *line = NULL;
  fputs(prompt, stdout);
  fflush(stdout);
  ssize_t len = getline(line, &cap, stdin);
  if (len < 0) {
    free(*line);
    *line = NULL;
    fputc('\n', stdout); /* leave the cursor on a fresh line */
    return INPUT_EOF;
  }
  if (len > 0 && (*line)[len - 1] == '\n') (*line)[len - 1] = '\0';
  return INPUT_LINE;
}

relua_input relua_input_read(lua_State *L, const char *prompt, char **line) {
  fflush(stdout);
  return use_readline ? read_terminal(L, prompt, line) : read_plain(prompt, line);
}
