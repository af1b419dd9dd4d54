/*
** vm/main.c: the relua command line, a superset of lua5.4's.
**
**   relua [options] [script [args]]
**
** Options as in lua5.4: -e stat, -i, -l mod, -l g=mod, -v, -E, -W, -- and - (stdin). The
** `arg` table, LUA_INIT_5_4 / LUA_INIT and the exit status behave as lua5.4's. What relua adds:
** the modules linked into the host are preloaded and required into globals at startup, the
** `relua` table (version, show, on_idle) and the REPL of repl.c.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "nn/lua/lnn.h"
#include "vm/vm.h"

/* The modules linked into the host: each goes into package.preload and is required into a
   global of the same name at startup. This is the one place to add a module (viz goes here,
   after `nn`, as {"viz", luaopen_viz}). */
static const luaL_Reg host_modules[] = {
    {"nn", luaopen_nn},
    {NULL, NULL},
};

enum { OPT_E = 1, OPT_I = 2, OPT_V = 4, OPT_NOENV = 8, OPT_HELP = 16 };

typedef struct {
  int flags;  /* OPT_* */
  int script; /* argv index of the script (a file or "-"), 0 when there is none */
  int bad;    /* argv index of a bad option, 0 when all is well */
} options;

/* Reads the options up to the script name (the first argument that is not an option). */
static options parse_options(int argc, char **argv) {
  options o = {0, 0, 0};
  int i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-') break;            /* the script */
    if (a[1] == '\0') break;           /* "-": the script is stdin */
    if (a[1] == '-' && a[2] == '\0') { /* "--": the script follows, if any */
      i++;
      break;
    }
    if (strcmp(a, "--help") == 0) a = "-h";
    switch (a[1]) {
    case 'h': o.flags |= OPT_HELP; break;
    case 'E': o.flags |= OPT_NOENV; break;
    case 'W': break;
    case 'i': o.flags |= OPT_I | OPT_V; break; /* -i shows the version too, as lua5.4 does */
    case 'v': o.flags |= OPT_V; break;
    case 'e':
      o.flags |= OPT_E;
      /* fall through - -e and -l both take an argument */
    case 'l':
      if (a[2] == '\0' && (i + 1 >= argc || argv[i + 1][0] == '-')) {
        o.bad = i; /* no argument, or another option where the argument should be */
        return o;
      }
      if (a[2] == '\0') i++;
      continue;
    default: o.bad = i; return o;
    }
    if (a[2] != '\0') { /* -E, -W, -i, -v take nothing after the letter */
      o.bad = i;
      return o;
    }
  }
  o.script = i < argc ? i : 0;
  return o;
}

/* The options, for the usage message, --help and the man page (built from --help). */
static const char options_text[] =
    "  -e stat   run the Lua statement 'stat'\n"
    "  -i        enter the REPL after running 'script'\n"
    "  -l mod    require module 'mod' into global 'mod'\n"
    "  -l g=mod  require module 'mod' into global 'g'\n"
    "  -v        print the version\n"
    "  -E        ignore environment variables (LUA_INIT, LUA_PATH, ...)\n"
    "  -W        turn warnings on\n"
    "  -h        print this help (also --help)\n"
    "  --        stop handling options\n"
    "  -         stop handling options and run stdin\n";

static const char help_text[] =
    "An interactive REPL and scripting language for neural nets: Lua 5.4 with the nn module\n"
    "(tensors, autograd, modules, optimizers, recurrences, learning rules) and viz (the live\n"
    "view). With no script and a terminal, relua starts the REPL; type help() there.\n"
    "\n"
    "Environment:\n"
    "  RELUA_THREADS=n   threads for elementwise ops (default: one per core)\n"
    "  RELUA_DATA=dir    where nn.data finds Fashion-MNIST (dir or dir/fashion-mnist)\n"
    "  RELUA_STDLIB=dir  the Lua half of nn and viz (default: found beside the binary)\n"
    "  RELUA_HISTORY=f   the REPL's history file (default ~/.relua_history)\n"
    "  RELUA_FONT=f      the live view's font (default DejaVu Sans Mono)\n"
    "  LUA_INIT, LUA_PATH, LUA_CPATH as for lua5.4\n";

static void print_usage(FILE *f, const char *progname) {
  fprintf(f, "usage: %s [options] [script [args]]\nOptions:\n%s", progname, options_text);
}

static void print_bad_option(const char *progname, const char *bad) {
  if ((bad[1] == 'e' || bad[1] == 'l') && bad[2] == '\0')
    fprintf(stderr, "%s: '%s' needs argument\n", progname, bad);
  else
    fprintf(stderr, "%s: unrecognized option '%s'\n", progname, bad);
  print_usage(stderr, progname);
}

static void print_version(void) {
  printf("%s (%s)\n", RELUA_VERSION, LUA_COPYRIGHT);
  fflush(stdout);
}

/* arg[0] is the script, arg[1..] its arguments, arg[-1..] the interpreter and its options.
   With no script, arg[0] is the interpreter, as in lua5.4. */
static void create_arg_table(lua_State *L, int argc, char **argv, int script) {
  lua_createtable(L, argc - script - 1 > 0 ? argc - script - 1 : 0, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = relua_docall(L, 0, 0);
  return relua_report(L, status);
}

static int dostring(lua_State *L, const char *code, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, code, strlen(code), name));
}

/* -l mod or -l g=mod: g = require(mod). */
static int dolibrary(lua_State *L, const char *spec) {
  const char *eq = strchr(spec, '=');
  const char *mod = eq ? eq + 1 : spec;
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  int status = relua_docall(L, 1, 1);
  if (status == LUA_OK) {
    if (eq)
      lua_pushlstring(L, spec, (size_t)(eq - spec));
    else
      lua_pushstring(L, spec);
    lua_insert(L, -2);
    lua_setglobal(L, lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  return relua_report(L, status);
}

/* LUA_INIT_5_4, else LUA_INIT: "@file" runs the file, anything else is code. */
static int handle_luainit(lua_State *L) {
  const char *name = "=LUA_INIT_5_4";
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=LUA_INIT";
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dochunk(L, luaL_loadfile(L, init + 1));
  return dostring(L, init, name);
}

/* The -e, -l and -W options, in their order on the command line. */
static int run_options(lua_State *L, char **argv, int end) {
  for (int i = 1; i < end; i++) {
    char opt = argv[i][1];
    if (opt == 'W') lua_warning(L, "@on", 0);
    if (opt != 'e' && opt != 'l') continue;
    const char *value = argv[i][2] ? argv[i] + 2 : argv[++i];
    int status = opt == 'e' ? dostring(L, value, "=(command line)") : dolibrary(L, value);
    if (status != LUA_OK) return 0;
  }
  return 1;
}

/* Runs the script with the positive entries of `arg` as its arguments ("-" is stdin, unless
   it came after "--"). */
static int run_script(lua_State *L, char **argv, int script) {
  const char *name = argv[script];
  if (strcmp(name, "-") == 0 && strcmp(argv[script - 1], "--") != 0) name = NULL;
  int status = luaL_loadfile(L, name);
  if (status == LUA_OK) {
    if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
    int n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
    lua_remove(L, -n - 1);
    status = relua_docall(L, n, 0);
  }
  return relua_report(L, status) == LUA_OK;
}

/* The `relua` table: the host's own corner of the global namespace. relua.on_idle, when set
   to a function, is called about 30 times a second while the prompt waits. */
static void create_relua_table(lua_State *L) {
  lua_newtable(L);
  lua_pushstring(L, RELUA_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushcfunction(L, relua_show);
  lua_setfield(L, -2, "show");
  lua_setglobal(L, "relua");
}

/* Modules too heavy to load at every start (viz brings SDL): a global that requires the
   module on first use and then stands aside. */
static const char *const lazy_modules[] = {"viz", NULL};

static void open_lazy_modules(lua_State *L) {
  static const char proxy[] = "local name = ...\n"
                              "return setmetatable({}, {__index = function(_, k)\n"
                              "  local m = require(name)\n"
                              "  if rawequal(_G[name], _) then _G[name] = m end\n"
                              "  return m[k]\n"
                              "end, __pairs = function() return pairs(require(name)) end,\n"
                              "__name = name .. ' (loaded on first use)'})";
  for (const char *const *m = lazy_modules; *m; m++) {
    if (luaL_loadstring(L, proxy) != LUA_OK) {
      lua_pop(L, 1);
      continue;
    }
    lua_pushstring(L, *m);
    lua_call(L, 1, 1);
    lua_setglobal(L, *m);
  }
}

/* Preloads the host's modules and requires each into its global. A module that fails to
   load is reported and left out: the interpreter still works without it. */
static void open_host_modules(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const luaL_Reg *m = host_modules; m->name; m++) {
    lua_pushcfunction(L, m->func);
    lua_setfield(L, -2, m->name);
  }
  lua_pop(L, 1);
  for (const luaL_Reg *m = host_modules; m->name; m++) {
    lua_getglobal(L, "require");
    lua_pushstring(L, m->name);
    if (relua_report(L, relua_docall(L, 1, 1)) == LUA_OK) lua_setglobal(L, m->name);
  }
  open_lazy_modules(L);
  /* help(x) in scripts and -e as at the prompt */
  if (lua_getglobal(L, "nn") == LUA_TTABLE && lua_getfield(L, -1, "help") == LUA_TFUNCTION)
    lua_setglobal(L, "help");
  else
    lua_pop(L, 1);
  lua_pop(L, 1);
}

/* Everything runs inside this protected function, so that no error can escape to a panic. */
static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  options o = parse_options(argc, argv);
  luaL_checkversion(L);
  if (o.bad) {
    print_bad_option(relua_get_progname(), argv[o.bad]);
    return 0;
  }
  if (o.flags & OPT_HELP) {
    print_usage(stdout, "relua");
    printf("\n%s", help_text);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (o.flags & OPT_V) print_version();
  if (o.flags & OPT_NOENV) {
    lua_pushboolean(L, 1); /* tells the libraries to ignore LUA_PATH and LUA_CPATH */
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  create_arg_table(L, argc, argv, o.script);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  create_relua_table(L);
  open_host_modules(L);
  if (!(o.flags & OPT_NOENV) && handle_luainit(L) != LUA_OK) return 0;
  if (!run_options(L, argv, o.script ? o.script : argc)) return 0;
  if (o.script && !run_script(L, argv, o.script)) return 0;
  if (o.flags & OPT_I)
    relua_repl(L);
  else if (o.script == 0 && !(o.flags & (OPT_E | OPT_V))) {
    if (isatty(STDIN_FILENO)) {
      print_version();
      relua_repl(L);
    } else if (dochunk(L, luaL_loadfile(L, NULL)) != LUA_OK)
      return 0;
  }
  lua_pushboolean(L, 1);
  return 1;
}

int main(int argc, char **argv) {
  if (argc > 0 && argv[0][0]) relua_set_progname(argv[0]);
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    relua_message("cannot create the Lua state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP); /* no collections while the libraries load */
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 0);
  int ok = lua_toboolean(L, -1);
  relua_report(L, status);
  lua_close(L);
  return ok && status == LUA_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}
