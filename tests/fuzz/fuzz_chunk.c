/*
** tests/fuzz/fuzz_chunk.c: the REPL's chunk reader (vm/repl.c read_chunk: continuation lines,
** "=expr", the expression-then-statements compile, Ctrl-C and Ctrl-D inside a chunk) on any
** bytes, as lines typed at the prompt. A line that is a lone 0x03 is a Ctrl-C; the end of
** the input is a Ctrl-D. Chunks are compiled, never run.
*/
#include <lualib.h>

#include "tests/fuzz/fuzz.h"
#include "vm/repl.c" /* its static functions are what is fuzzed */

static const uint8_t *in, *in_end;

/* Stand-ins for vm/input.c: lines come from the fuzz input. */
relua_input relua_input_read(lua_State *L, const char *prompt, char **line) {
  (void)L, (void)prompt;
  if (in >= in_end) return INPUT_EOF;
  const uint8_t *nl = memchr(in, '\n', (size_t)(in_end - in));
  size_t n = nl ? (size_t)(nl - in) : (size_t)(in_end - in);
  const uint8_t *start = in;
  in += n + (nl != NULL);
  if (n == 1 && start[0] == 3) return INPUT_INTERRUPT;
  *line = malloc(n + 1);
  if (!*line) abort();
  memcpy(*line, start, n);
  (*line)[n] = '\0';
  return INPUT_LINE;
}
void relua_input_remember(const char *chunk) {
  (void)chunk;
}
void relua_input_open(lua_State *L) {
  (void)L;
}
void relua_input_close(void) {}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lua_State *L;
  if (!L) L = luaL_newstate();
  in = data, in_end = data + size;
  int quiet, status;
  do {
    status = read_chunk(L, &quiet);
    if (status == READ_OK || status == READ_ERROR) lua_pop(L, 1);
  } while (status != READ_EOF);
  if (lua_gettop(L) != 0) abort(); /* the reader must leave the stack as it found it */
  return 0;
}
