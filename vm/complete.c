/*
** vm/complete.c: tab completion for the REPL.
**
** The word before the cursor (a.b.c or a.b:c; `.` and `:` do not break words) completes to
** keywords and globals, or to the fields of the table the path names, including those reached
** through metatables: `x:ma` finds matmul in getmetatable(x).__index, following chains of
** __index tables (an __index function is never called: completing must not run code).
** A unique match gets what usually comes next: `(` after a function, `.` after a plain table.
** Inside a string, readline completes file names.
*/
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <readline/readline.h>

#include <lauxlib.h>
#include <lua.h>

#include "vm/vm.h"

#define MAX_HOPS 10 /* __index tables followed from one value */

static lua_State *complete_L;

static const char *const keywords[] = {"and",   "break", "do",       "else",  "elseif", "end",
                                       "false", "for",   "function", "goto",  "if",     "in",
                                       "local", "nil",   "not",      "or",    "repeat", "return",
                                       "then",  "true",  "until",    "while", NULL};

/* The candidates of the current completion: full words, and what to append to each. */
static struct {
  char **words;
  char *append;
  int n, cap, next;
} found;

static void clear_found(void) {
  for (int i = 0; i < found.n; i++) free(found.words[i]);
  found.n = found.next = 0;
}

/* Adds prefix..name, unless it is there already: the first found is what Lua would find. */
static void add_found(const char *prefix, size_t plen, const char *name, char append) {
  size_t nlen = strlen(name);
  for (int i = 0; i < found.n; i++)
    if (strncmp(found.words[i], prefix, plen) == 0 && strcmp(found.words[i] + plen, name) == 0)
      return;
  if (found.n == found.cap) {
    int cap = found.cap ? 2 * found.cap : 64;
    char **words = realloc(found.words, (size_t)cap * sizeof *words);
    if (words == NULL) return;
    found.words = words;
    char *app = realloc(found.append, (size_t)cap);
    if (app == NULL) return;
    found.append = app;
    found.cap = cap;
  }
  char *word = malloc(plen + nlen + 1);
  if (word == NULL) return;
  memcpy(word, prefix, plen);
  memcpy(word + plen, name, nlen + 1);
  found.words[found.n] = word;
  found.append[found.n++] = append;
}

static int is_name(const char *s, size_t len) {
  if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
  for (size_t i = 1; i < len; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '_')) return 0;
  for (const char *const *k = keywords; *k; k++)
    if (strlen(*k) == len && memcmp(*k, s, len) == 0) return 0;
  return 1;
}

/* Replaces the value on top by getmetatable(it).__index and returns the type of that; when
   there is none, pops the value and returns LUA_TNIL. */
static int next_index(lua_State *L) {
  if (!lua_getmetatable(L, -1)) {
    lua_pop(L, 1);
    return LUA_TNIL;
  }
  lua_pushliteral(L, "__index");
  int type = lua_rawget(L, -2);
  lua_replace(L, -3);
  lua_pop(L, 1);
  if (type == LUA_TNIL) lua_pop(L, 1);
  return type;
}

/* Replaces the value on top by its field `key` (raw, then through __index tables); returns 0
   and pops it when there is none. */
static int get_field(lua_State *L, const char *key, size_t len) {
  for (int hop = 0; hop <= MAX_HOPS; hop++) {
    if (lua_istable(L, -1)) {
      lua_pushlstring(L, key, len);
      if (lua_rawget(L, -2) != LUA_TNIL) {
        lua_replace(L, -2);
        return 1;
      }
      lua_pop(L, 1);
    }
    int type = next_index(L);
    if (type != LUA_TTABLE) {
      if (type != LUA_TNIL) lua_pop(L, 1);
      return 0;
    }
  }
  lua_pop(L, 1);
  return 0;
}

static char append_for(lua_State *L, int idx) {
  int type = lua_type(L, idx);
  if (type == LUA_TFUNCTION) return '(';
  if (type != LUA_TTABLE) return '\0';
  if (luaL_getmetafield(L, idx, "__call") == LUA_TNIL) return '.';
  lua_pop(L, 1);
  return '\0'; /* a callable table (a class): `(` or `.` may come next */
}

typedef struct {
  const char *prefix; /* the word up to and with the last separator */
  size_t plen;
  const char *part; /* the rest of the word, which candidates start with */
  char sep;         /* the last separator, or 0 */
} word_parts;

/* Adds the keys of table t that complete the word. The tables behind an __index function
   may hold methods or getters: only `x:name` (a method call, surely) gets its "(". Private
   names (starting with _: __call, _params) are shown only when the word starts with _. */
static void add_keys(lua_State *L, int t, const word_parts *w, int behind_function) {
  size_t partlen = strlen(w->part);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    size_t len;
    if (lua_type(L, -2) == LUA_TSTRING) {
      const char *key = lua_tolstring(L, -2, &len);
      int hidden = key[0] == '_' && w->part[0] != '_';
      if (!hidden && len >= partlen && memcmp(key, w->part, partlen) == 0 && is_name(key, len)) {
        char append = append_for(L, -1);
        if (behind_function) append = w->sep == ':' && append == '(' ? '(' : '\0';
        add_found(w->prefix, w->plen, key, append);
      }
    }
    lua_pop(L, 1);
  }
}

/* The usual shape of a C binding is __index = a closure over tables of methods and getters:
   their keys are the fields, found without calling the function. (_ENV is no such table.) */
static void add_upvalue_keys(lua_State *L, int f, const word_parts *w) {
  const char *name;
  for (int i = 1; (name = lua_getupvalue(L, f, i)) != NULL; i++) {
    if (lua_istable(L, -1) && strcmp(name, "_ENV") != 0) add_keys(L, lua_gettop(L), w, 1);
    lua_pop(L, 1);
  }
}

/* Adds the fields of the value on top: its own, then those of its __index chain. Pops it. */
static void add_fields(lua_State *L, const word_parts *w) {
  for (int hop = 0; hop <= MAX_HOPS; hop++) {
    if (lua_istable(L, -1)) add_keys(L, lua_gettop(L), w, 0);
    int type = next_index(L);
    if (type == LUA_TNIL) return;
    if (type == LUA_TFUNCTION) {
      add_upvalue_keys(L, lua_gettop(L), w);
      break;
    }
  }
  lua_pop(L, 1);
}

/* Fills `found` for the word (runs protected: only memory errors can happen). */
static int collect(lua_State *L) {
  const char *word = lua_tostring(L, 1);
  const char *last = NULL; /* the last separator */
  for (const char *p = strpbrk(word, ".:"); p; p = strpbrk(p + 1, ".:")) last = p;
  lua_pushglobaltable(L);
  if (last == NULL) {
    size_t len = strlen(word);
    for (const char *const *k = keywords; *k; k++)
      if (strncmp(*k, word, len) == 0) add_found("", 0, *k, ' ');
    word_parts w = {"", 0, word, 0};
    add_fields(L, &w);
    return 0;
  }
  for (const char *p = word; p < last;) { /* walk the path a.b.c before the last separator */
    size_t len = strcspn(p, ".:");
    if (!is_name(p, len) || !get_field(L, p, len)) return 0;
    p += len + 1;
  }
  word_parts w = {word, (size_t)(last - word) + 1, last + 1, *last};
  add_fields(L, &w);
  return 0;
}

static char *next_match(const char *text, int state) {
  (void)text;
  if (state == 0) found.next = 0;
  return found.next < found.n ? strdup(found.words[found.next++]) : NULL;
}

/* Lists matches by their last component: "zeros  zeros_like" rather than "nn.zeros ...". */
static void display_matches(char **matches, int num, int max_len) {
  const char *m = matches[0] ? matches[0] : "";
  size_t cut = 0;
  for (const char *p = m; *p; p++)
    if (*p == '.' || *p == ':') cut = (size_t)(p - m) + 1;
  char **shown = malloc((size_t)(num + 2) * sizeof *shown);
  if (shown == NULL) return;
  for (int i = 0; i <= num; i++) shown[i] = matches[i] + (strlen(matches[i]) >= cut ? cut : 0);
  shown[num + 1] = NULL;
  rl_display_match_list(shown, num, max_len - (int)cut);
  free(shown);
  rl_forced_update_display();
}

static char **attempt_completion(const char *text, int start, int end) {
  (void)start;
  (void)end;
  if (rl_completion_quote_character) return NULL; /* in a string: file names */
  rl_attempted_completion_over = 1;               /* elsewhere never file names */
  clear_found();
  lua_State *L = complete_L;
  int top = lua_gettop(L);
  lua_pushcfunction(L, collect);
  lua_pushstring(L, text);
  lua_pcall(L, 1, 0, 0);
  lua_settop(L, top);
  if (found.n == 0) return NULL;
  char **matches = rl_completion_matches(text, next_match);
  if (matches && matches[1] == NULL) { /* one match: append what comes after it */
    for (int i = 0; i < found.n; i++)
      if (strcmp(found.words[i], matches[0]) == 0) {
        rl_completion_append_character = found.append[i];
        break;
      }
  }
  return matches;
}

/* Whether position `end` of the line is inside a string literal ('...' or "..."). */
static int in_string(const char *line, int end) {
  char quote = 0;
  for (int i = 0; i < end && line[i]; i++) {
    if (quote && line[i] == '\\' && i + 1 < end)
      i++;
    else if (quote && line[i] == quote)
      quote = 0;
    else if (!quote && (line[i] == '"' || line[i] == '\''))
      quote = line[i];
  }
  return quote != 0;
}

/* In code, `.` and `:` are part of words; in a string, a file name runs to the quote. */
static char *word_breaks(void) {
  static char code[] = " \t\n\"\\'`@$><=;|&{(,)}[]+-*/%^#~";
  static char string[] = "\"'";
  return in_string(rl_line_buffer, rl_point) ? string : code;
}

void relua_complete_init(lua_State *L) {
  complete_L = L;
  rl_attempted_completion_function = attempt_completion;
  rl_completion_display_matches_hook = display_matches;
  rl_completion_word_break_hook = word_breaks;
  rl_completer_quote_characters = "\"'";
}
