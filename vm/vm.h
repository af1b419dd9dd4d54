/*
** vm/vm.h: the relua host, shared between its files.
**
**   main.c      the command line, a superset of lua5.4's; preloaded modules
**   run.c       protected calls: tracebacks, error reports, Ctrl-C while Lua runs
**   repl.c      read-eval-print: chunks, results, help
**   input.c     lines from the terminal: readline, Ctrl-C at the prompt, idle hook, history
**   complete.c  tab completion of globals, keywords, fields and methods
**   show.c      how the REPL prints values
*/
#ifndef RELUA_VM_H
#define RELUA_VM_H

#include <lua.h>

#define RELUA_VERSION "relua 0.1.0"

/* run.c */
void relua_set_progname(const char *name); /* prefix of error reports; NULL for none */
const char *relua_get_progname(void);
int relua_docall(lua_State *L, int narg, int nres); /* lua_pcall + traceback + Ctrl-C */
int relua_report(lua_State *L, int status);         /* prints the error on top, pops it */
void relua_message(const char *msg);                /* "progname: msg" on stderr */

/* repl.c */
void relua_repl(lua_State *L);

/* input.c: one line from the user, malloc'ed (the caller frees it). INPUT_EOF leaves the
   cursor on a fresh line; INPUT_INTERRUPT (Ctrl-C while typing) too. */
typedef enum { INPUT_LINE, INPUT_EOF, INPUT_INTERRUPT } relua_input;
void relua_input_open(lua_State *L);
relua_input relua_input_read(lua_State *L, const char *prompt, char **line);
void relua_input_remember(const char *chunk); /* into the history, and its file */
void relua_input_close(void);

/* complete.c */
void relua_complete_init(lua_State *L);

/* show.c: the text the REPL prints for its arguments, tab-separated (a lua_CFunction). */
int relua_show(lua_State *L);

#endif
