/*
** viz/term.c: the terminal backend of a view (see viz/term.h).
*/
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "viz/graphics.h"
#include "viz/term.h"

#define TEXT_FRAME  (1.0 / 10) /* seconds between two text frames, at least */
#define IMAGE_FRAME (1.0 / 2)  /* ... and two images */
#define COST_FACTOR 40         /* ... and 40 times the last frame's cost */
#define ASK_TIMEOUT 0.2        /* seconds the terminal has to answer */
#define KITTY_ID    7351       /* the image id of our frames */

struct viz_term {
  viz_term_info info;
  int top, rows;        /* the view's rows: top .. top + rows - 1 (1-based) */
  int asked;            /* the rows asked for (0: two thirds of the screen) */
  viz_cells shown, now; /* text mode: the cells on screen, and the new frame */
  bool drawn;           /* shown holds what the screen shows */
  bool keys;            /* the terminal is in our mode (saved holds the old one) */
  struct termios saved;
  double next_draw;
  viz_view *view;
  viz_term *next;
};

static viz_term *terms; /* every open terminal view (the end of the program closes them) */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Writes all of b to standard output (after what stdio holds), through interruptions. */
static void out(const char *p, size_t n) {
  fflush(stdout);
  while (n > 0) {
    ssize_t k = write(STDOUT_FILENO, p, n);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (k <= 0) return;
    p += k, n -= (size_t)k;
  }
}

static void out_buf(viz_buf *b) {
  if (!b->failed) out(b->p, b->n);
  b->n = 0;
}

/* ---- what the terminal is ---- */

static bool env_is(const char *name, const char *value) {
  const char *e = getenv(name);
  return e && strcmp(e, value) == 0;
}

static bool env_has(const char *name, const char *part) {
  const char *e = getenv(name);
  return e && strstr(e, part);
}

static bool env_set(const char *name) {
  const char *e = getenv(name);
  return e && *e;
}

static void size_of(viz_term_info *t) {
  struct winsize ws;
  t->cols = 80, t->rows = 24;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
    t->cols = ws.ws_col, t->rows = ws.ws_row;
    if (ws.ws_xpixel > 0 && ws.ws_ypixel > 0)
      t->cell_w = ws.ws_xpixel / ws.ws_col, t->cell_h = ws.ws_ypixel / ws.ws_row;
  } else {
    const char *c = getenv("COLUMNS"), *l = getenv("LINES");
    if (c && atoi(c) > 0) t->cols = atoi(c);
    if (l && atoi(l) > 0) t->rows = atoi(l);
  }
}

/* tmux lets images through only with allow-passthrough on */
static bool tmux_passthrough(void) {
  FILE *p = popen("tmux show-options -gqv allow-passthrough 2>/dev/null", "r");
  if (!p) return false;
  char line[32] = "";
  if (!fgets(line, sizeof line, p)) line[0] = 0;
  pclose(p);
  return strncmp(line, "on", 2) == 0 || strncmp(line, "all", 3) == 0;
}

/* The mode the environment names, or -1. */
static int env_mode(void) {
  if (env_is("TERM", "xterm-kitty") || env_set("KITTY_WINDOW_ID") ||
      env_is("TERM_PROGRAM", "WezTerm") || env_is("TERM_PROGRAM", "ghostty") ||
      env_set("GHOSTTY_RESOURCES_DIR") || env_set("KONSOLE_VERSION"))
    return VIZ_TERM_KITTY;
  if (env_has("TERM", "foot") || env_has("TERM", "mlterm") || env_has("TERM", "yaft") ||
      env_has("TERM", "contour"))
    return VIZ_TERM_SIXEL;
  return -1;
}

/* Reads the answers to the queries sent, until the device attributes (always answered, and
   asked last) or the timeout. */
static void read_answers(viz_term_info *t, int *mode) {
  char buf[512];
  size_t n = 0;
  double end = now() + ASK_TIMEOUT;
  while (n < sizeof buf - 1) {
    int left = (int)ceil((end - now()) * 1000);
    struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
    if (left <= 0 || poll(&pfd, 1, left) <= 0) break;
    ssize_t k = read(STDIN_FILENO, buf + n, sizeof buf - 1 - n);
    if (k <= 0) break;
    n += (size_t)k;
    buf[n] = 0;
    char *da = strstr(buf, "\x1b[?");
    if (da && strchr(da, 'c')) break;
  }
  buf[n] = 0;
  if (strstr(buf, "\x1b_Gi=31;OK")) *mode = VIZ_TERM_KITTY;
  char *da = strstr(buf, "\x1b[?");
  if (*mode < 0 && da) { /* attribute 4: sixel */
    for (char *p = da + 3; *p && *p != 'c';) {
      if (strtol(p, &p, 10) == 4 && (*p == ';' || *p == 'c')) *mode = VIZ_TERM_SIXEL;
      if (*p == ';')
        p++;
      else if (*p != 'c')
        break;
    }
  }
  int r, c;
  for (char *p = buf; (p = strstr(p, "\x1b[")); p++) {
    if (sscanf(p, "\x1b[%d;%dR", &r, &c) == 2) t->cursor_row = r, t->cursor_col = c;
    if (sscanf(p, "\x1b[6;%d;%dt", &r, &c) == 2 && r > 0 && c > 0) t->cell_h = r, t->cell_w = c;
  }
}

/* Asks the terminal what it can show (kitty's query, unless the answer is known), where the
   cursor is and how big a cell is, then the device attributes. */
static void ask(viz_term_info *t, int *mode) {
  struct termios old, raw;
  if (tcgetattr(STDIN_FILENO, &old) != 0) return;
  raw = old;
  raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
  raw.c_cc[VMIN] = 0, raw.c_cc[VTIME] = 0;
  if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) != 0) return;
  viz_buf b = {0};
  if (*mode < 0 && !t->tmux) viz_buf_str(&b, "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\");
  viz_buf_str(&b, "\x1b[6n\x1b[16t\x1b[c");
  out_buf(&b);
  viz_buf_free(&b);
  read_answers(t, mode);
  tcsetattr(STDIN_FILENO, TCSANOW, &old);
}

void viz_term_detect(viz_term_info *t, bool ask_it) {
  memset(t, 0, sizeof *t);
  t->tmux = env_set("TMUX");
  size_of(t);
  t->depth = env_set("NO_COLOR") || env_is("TERM", "dumb")                      ? VIZ_PLAIN
             : env_is("COLORTERM", "truecolor") || env_is("COLORTERM", "24bit") ? VIZ_24BIT
                                                                                : VIZ_256;
  const char *force = getenv("RELUA_VIZ_TERM");
  int mode = -1;
  if (force && *force) {
    if (strcmp(force, "kitty") == 0)
      mode = VIZ_TERM_KITTY;
    else if (strcmp(force, "sixel") == 0)
      mode = VIZ_TERM_SIXEL;
    else if (strcmp(force, "blocks") == 0)
      mode = VIZ_TERM_TEXT, t->glyphs = VIZ_BLOCKS;
    else if (strcmp(force, "text") == 0 || strcmp(force, "braille") == 0)
      mode = VIZ_TERM_TEXT;
    else
      fprintf(stderr,
              "viz: RELUA_VIZ_TERM=%s is none of kitty, sixel, text, braille, blocks; "
              "choosing for this terminal\n",
              force);
  }
  if (mode < 0) {
    mode = env_mode();
    if (mode >= 0 && t->tmux && !tmux_passthrough()) mode = VIZ_TERM_TEXT;
  }
  bool ttys = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  if (ask_it && ttys && !env_is("TERM", "dumb")) ask(t, mode < 0 ? &mode : &(int){mode});
  t->mode = mode < 0 ? VIZ_TERM_TEXT : (viz_term_mode)mode;
  if (t->cell_w <= 0 || t->cell_h <= 0) t->cell_w = 8, t->cell_h = 16;
}

const char *viz_term_describe(const viz_term_info *t, char *buf, size_t n) {
  static const char *const depth[] = {"no color", "256 colors", "24-bit color"};
  if (t->mode == VIZ_TERM_KITTY)
    snprintf(buf, n, "kitty graphics%s", t->tmux ? " through tmux" : "");
  else if (t->mode == VIZ_TERM_SIXEL)
    snprintf(buf, n, "sixel%s", t->tmux ? " through tmux" : "");
  else
    snprintf(buf, n, "text (%s, %s)", t->glyphs == VIZ_BLOCKS ? "half blocks" : "braille",
             depth[t->depth]);
  return buf;
}

/* ---- frames ---- */

/* The frame of v as an image of the view's rows, at the cursor. */
static void image(viz_buf *b, viz_view *v, const viz_term_info *t, int rows) {
  int w = v->w, h = v->h;
  v->w = t->cols * t->cell_w;
  v->h = (t->mode == VIZ_TERM_SIXEL ? rows - 1 : rows) * t->cell_h; /* no scroll at the end */
  viz_view_render(v);
  if (v->canvas.px && v->canvas.w == v->w && v->canvas.h == v->h) {
    if (t->mode == VIZ_TERM_KITTY) {
      viz_kitty_opts o = {KITTY_ID, 1, t->cols, rows, true, t->tmux};
      viz_kitty_encode(b, v->canvas.px, v->w, v->h, &o);
    } else {
      viz_sixel_encode(b, v->canvas.px, v->w, v->h, t->tmux);
    }
  }
  if (w != v->w || h != v->h) v->dirty = true;
  v->w = w, v->h = h;
}

/* Draws the frame: only the changed cells in text mode once a frame is on screen. */
static void frame(viz_term *t) {
  viz_view *v = t->view;
  viz_buf b = {0};
  viz_buf_str(&b, "\x1b"
                  "7\x1b[?25l");
  if (t->info.mode == VIZ_TERM_TEXT) {
    if (viz_cells_render(v, &t->now, t->info.cols, t->rows, t->info.glyphs, t->info.depth)) {
      viz_cells_emit(&b, &t->now, t->drawn ? &t->shown : NULL, t->top, t->info.depth);
      viz_cells shown = t->shown; /* the new frame is what is shown now */
      t->shown = t->now, t->now = shown;
      t->drawn = true;
    }
  } else {
    viz_buf_printf(&b, "\x1b[%d;1H", t->top);
    image(&b, v, &t->info, t->rows);
    v->dirty = false;
  }
  viz_buf_str(&b, "\x1b[0m\x1b"
                  "8\x1b[?25h");
  out_buf(&b);
  viz_buf_free(&b);
  v->frames++;
}

/* Sets the scrolling region above the view's rows, which it clears; the cursor goes to
   (row, col) of the region. */
static void claim(viz_term *t, int row, int col) {
  viz_buf b = {0};
  int region = t->top - 1;
  viz_buf_printf(&b, "\x1b[%d;1H\x1b[J\x1b[1;%dr\x1b[%d;%dH", t->top, region, row, col);
  out_buf(&b);
  viz_buf_free(&b);
  t->drawn = false;
}

static int view_rows(int screen, int asked) {
  int rows = asked > 0 ? asked : screen - (screen / 3 > 4 ? screen / 3 : 4);
  return rows > screen - 2 ? screen - 2 : rows;
}

/* The terminal changed its size: everything again at the new one (the terminal reset the
   region; what the log showed stays above, the cursor at the region's last line). */
static void resized(viz_term *t) {
  int cols = t->info.cols, rows = t->info.rows;
  size_of(&t->info);
  if (cols == t->info.cols && rows == t->info.rows) return;
  viz_buf b = {0};
  viz_buf_str(&b, "\x1b[r");
  out_buf(&b);
  viz_buf_free(&b);
  t->rows = view_rows(t->info.rows, t->asked);
  t->top = t->info.rows - t->rows + 1;
  claim(t, t->top - 1, 1);
  t->view->dirty = true;
  t->next_draw = 0;
}

/* ---- keys ---- */

static void keys_on(viz_term *t) {
  struct termios raw;
  if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t->saved) != 0) return;
  raw = t->saved;
  raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
  raw.c_cc[VMIN] = 0, raw.c_cc[VTIME] = 0;
  t->keys = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
}

static void keys_off(viz_term *t) {
  if (t->keys) tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
  t->keys = false;
}

/* Reads what was typed (waiting up to ms for it); p pauses, q closes. */
static void read_keys(viz_term *t, int ms) {
  if (!t->keys) return;
  struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
  if (poll(&pfd, 1, ms) <= 0) return;
  char buf[64];
  ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
  for (ssize_t i = 0; i < n; i++) {
    if (buf[i] == 'p' || buf[i] == 'P') viz_view_set_paused(t->view, !t->view->paused);
    if (buf[i] == 'q' || buf[i] == 'Q') {
      viz_view_close(t->view);
      return;
    }
  }
}

/* ---- the view ---- */

static void close_all(void) {
  while (terms) viz_term_close(terms->view);
}

bool viz_term_open(viz_view *v, int rows, bool keys, char *err, size_t errlen) {
  static bool registered;
  viz_term *t = calloc(1, sizeof *t);
  if (!t) return snprintf(err, errlen, "out of memory"), false;
  viz_term_detect(&t->info, true);
  t->asked = rows;
  t->rows = view_rows(t->info.rows, rows);
  if (t->rows < 4 || t->info.cols < 20) {
    snprintf(err, errlen, "the terminal (%dx%d) is too small for a view of %d rows", t->info.cols,
             t->info.rows, t->rows);
    free(t);
    return false;
  }
  t->top = t->info.rows - t->rows + 1;
  /* make room: the lines the cursor is on or above stay, scrolled up when they must */
  int row = t->info.cursor_row > 0 ? t->info.cursor_row : t->info.rows;
  int col = t->info.cursor_col > 0 ? t->info.cursor_col : 1;
  if (row >= t->top) {
    viz_buf b = {0};
    viz_buf_printf(&b, "\x1b[%d;1H", t->info.rows);
    for (int i = t->top - 1; i < row; i++) viz_buf_str(&b, "\n");
    out_buf(&b);
    viz_buf_free(&b);
    row = t->top - 1;
  }
  claim(t, row, col);
  t->view = v;
  t->next = terms;
  terms = t;
  v->term = t;
  v->terminal = true;
  if (keys) keys_on(t);
  v->hint = t->keys ? "p pause \xc2\xb7 q close" : NULL;
  if (!registered) registered = atexit(close_all) == 0;
  frame(t);
  return true;
}

void viz_term_close(viz_view *v) {
  viz_term *t = v->term;
  if (!t) return;
  for (viz_term **p = &terms; *p; p = &(*p)->next)
    if (*p == t) {
      *p = t->next;
      break;
    }
  keys_off(t);
  v->hint = NULL;
  if (v->dirty) frame(t);
  /* the region is the whole screen again, the cursor on a new line below the view */
  viz_buf b = {0};
  viz_buf_printf(&b, "\x1b[r\x1b[%d;1H\n\x1b[0m\x1b[?25h", t->info.rows);
  out_buf(&b);
  viz_buf_free(&b);
  viz_cells_free(&t->shown);
  viz_cells_free(&t->now);
  free(t);
  v->term = NULL;
  v->closed = true;
}

void viz_term_update(viz_view *v, bool force) {
  viz_term *t = v->term;
  if (!t) return;
  read_keys(t, 0);
  if (!v->term) return; /* q */
  double start = now();
  if (!force && start < t->next_draw) return;
  resized(t);
  if (!v->dirty && t->drawn) return;
  frame(t);
  double least = t->info.mode == VIZ_TERM_TEXT ? TEXT_FRAME : IMAGE_FRAME;
  t->next_draw = now() + fmax(least, COST_FACTOR * (now() - start));
}

bool viz_term_wait(viz_view *v, double seconds) {
  double end = now() + seconds;
  while (v->term && v->paused) {
    viz_term_update(v, false);
    double left = end - now();
    if (left <= 0 || !v->term) break;
    read_keys(v->term, (int)ceil(fmin(left, 0.05) * 1000));
  }
  return v->term && v->paused;
}

bool viz_term_show(viz_view *v, int rows) {
  viz_term_info info;
  viz_term_detect(&info, !v->term);
  if (v->term) info = v->term->info;
  rows = rows > 0 ? rows : info.rows * 2 / 3 > 8 ? info.rows * 2 / 3 : 8;
  viz_buf b = {0};
  if (info.mode == VIZ_TERM_TEXT) {
    viz_cells cells = {0};
    bool ok = viz_cells_render(v, &cells, info.cols, rows, info.glyphs, info.depth);
    if (ok) viz_cells_lines(&b, &cells, info.depth, false);
    viz_cells_free(&cells);
    if (!ok) return false;
  } else { /* room first, then the image at its top */
    for (int i = 0; i < rows; i++) viz_buf_str(&b, "\n");
    viz_buf_printf(&b,
                   "\x1b[%dA\r\x1b"
                   "7",
                   rows);
    image(&b, v, &info, rows);
    viz_buf_printf(&b,
                   "\x1b"
                   "8\x1b[%dB\r",
                   rows);
  }
  bool ok = !b.failed;
  out_buf(&b);
  viz_buf_free(&b);
  return ok;
}

const char *viz_term_tostring(const viz_view *v, char *buf, size_t n) {
  char mode[64];
  const viz_term *t = v->term;
  if (!t) return snprintf(buf, n, "terminal (closed)"), buf;
  snprintf(buf, n, "terminal %dx%d cells, %s", t->info.cols, t->rows,
           viz_term_describe(&t->info, mode, sizeof mode));
  return buf;
}
