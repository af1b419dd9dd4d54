/*
** nn/ops/conv_direct.c: conv2d without im2col, for f32 at stride 1 in one group on CPUs with
** AVX-512 (its kernels are compiled for AVX-512 and taken when the CPU has it).
**
** Each image's input is copied into zero-padded planes (hp x wp, borders zeroed once per
** call). An output position is taken in "padded width", q = oy wp + ox with ox < wp (the
** columns ox >= ow are computed and dropped), so that what kernel tap (c, ki, kj) reads at q
** is the padded planes shifted by c ps + ki dh wp + kj dw: a contiguous run for every tap.
** The product O[m][q] = sum_k A[k][m] planes[off[k] + q] then reads its B straight from the
** planes, through a table of offsets in place of an im2col matrix, 16 positions a vector:
**   forward: m = output channel, k = (input channel, tap), A = the weight;
**   input gradient: the same on the output gradient padded by (k - 1) d - p, with k = (output
**            channel, tap), the taps reversed, A = the weight read across;
**   weight gradient: dW^T[r][o] += sum_q planes[off[r] + q] gt[q][o], gt the output gradient
**            transposed to (position, channel), zero at the dropped columns.
** The products' tiles keep 24 vectors of sums in registers. Threads take whole images,
** each with its own buffers and its own dW^T, summed at the end.
*/
#include <stdatomic.h>
#include <string.h>

#include "nn/alloc.h"
#include "nn/error.h"
#include "nn/ops/conv.h"
#include "nn/pool.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_DIRECT 1
#include <immintrin.h>
#define AVX512 __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))
#endif

/* tiles: MR rows x up to NV vectors (forward and input gradient), WR rows x up to WV
   vectors (weight gradient); VL floats a vector */
/* CHUNKS: the batch's parts in the backward, taken by whichever thread is free, each with
   its own share of dW (summed in order after: the same result every run, however the
   threads took them) */
enum { MR = 8, NV = 3, WR = 6, WV = 4, PO = 4, VL = 16, MAX_THREADS = 8, CHUNKS = 16 };

/* One product: O (mrows x qv vectors) = A^T planes (+ bias). */
typedef struct product {
  int64_t mrows, k, qv; /* mrows a multiple of MR */
  const float *a;       /* packed: block of MR rows b at a + b MR k, element (k, r) at k MR + r */
  const int32_t *off;   /* k offsets into the planes */
  const float *bias;    /* mrows values, or NULL */
} product;

/* The planes a product reads: n source planes of rows x cols (NCHW) copied in at row pr and
   column pc of planes of width wp (stride ps) after lead floats. Padded width: one copy,
   pc the padding; the product's rows are wp wide, then compacted. Same width (wp = cols =
   the output's width): no columns of padding but one copy per kernel column j, read
   shifted by j dw - sub, in which the columns that shift would read across a row's end are
   zero; the product's rows are then the output's. */
/* a masked store of a vector of positions into an output plane (padded width) */
typedef struct seg {
  int32_t off; /* where lane 0 would go in the plane */
  uint32_t mask;
} seg;

typedef struct side {
  int64_t n, rows, cols, pr, pc, wp, ps, lead, copies, cs, sub; /* cs: floats a copy */
  int64_t q, qv; /* the product's positions (rows of wp), in vectors */
  bool same;
  const int32_t *first; /* padded width: vector v's stores are seg[first[v] .. first[v + 1]) */
  const seg *seg;
} side;

typedef struct plan {
  const geom *g;
  side in, gy;                  /* forward (and weight gradient) on x; input gradient on gy */
  int64_t cop, rows, rows_w;    /* output channels rounded to VL; cin kh kw, rounded to WR */
  size_t gt_fl, dwt_fl, per_fl; /* floats per thread */
  bool lanes;                   /* dW in VL partial sums, straight from gy (no transpose) */
  product fwd, bwd;
  float *shared; /* packed weights, bias; offsets after them */
  size_t shared_bytes;
} plan;

bool conv_direct_takes(const geom *g) {
#ifdef HAVE_DIRECT
  static int avx512 = -1;
  if (avx512 < 0) avx512 = __builtin_cpu_supports("avx512f") ? 1 : 0;
  if (!avx512 || g->sh != 1 || g->sw != 1 || g->groups != 1) return false;
  if (g->ph > (g->kh - 1) * g->dh || g->pw > (g->kw - 1) * g->dw) return false;
  if (g->rows_g < 8 || g->cout < 8) return false; /* measured: 9 (1 -> 32, 3x3) wins */
  int64_t hp = g->h + 2 * g->ph, wp = g->w + 2 * g->pw;
  int64_t big = (g->cin + g->cout + 2) * (hp + g->kh * g->dh) * (wp + g->kw * g->dw);
  return big < (1LL << 30);
#else
  (void)g;
  return false;
#endif
}

#ifdef HAVE_DIRECT

static int64_t round_up(int64_t a, int64_t b) {
  return (a + b - 1) / b * b;
}

/* ======== the plan: sizes, packed weights, offsets ======== */

/* A side of n planes of rows x cols padded by pr, pc, for a product of out planes of
   out_rows rows. The same width is taken when its copies (kw of each plane) cost no more
   than the compaction they save (measured: on the 32 -> 64 layer, 3 x 32 copies against 64
   planes to compact, the two break even; 1 -> 32 gains 20%). */
static side side_of(const geom *g, int64_t n, int64_t rows, int64_t cols, int64_t pr, int64_t pc,
                    int64_t out, int64_t out_rows) {
  side d = {.n = n, .rows = rows, .cols = cols, .pr = pr, .copies = 1};
  d.same = 2 * pc == (g->kw - 1) * g->dw && pc < cols && g->kw * n <= out;
  d.pc = d.same ? 0 : pc, d.sub = d.same ? pc : 0, d.lead = d.same ? round_up(pc, VL) : 0;
  d.copies = d.same ? g->kw : 1, d.wp = cols + 2 * d.pc, d.ps = (rows + 2 * pr) * d.wp;
  d.q = out_rows * d.wp, d.qv = (d.q + VL - 1) / VL;
  int64_t reach = (g->kh - 1) * g->dh * d.wp + (g->kw - 1) * g->dw - d.sub;
  d.cs = round_up(d.lead + (n - 1) * d.ps + reach + d.qv * VL + VL, VL);
  return d;
}

/* where tap (c, ki, kj) of a side starts reading */
static int32_t side_off(const side *d, const geom *g, int64_t c, int64_t ki, int64_t kj) {
  int64_t copy = d->same ? kj : 0;
  return (int32_t)(copy * d->cs + d->lead + c * d->ps + ki * g->dh * d->wp + kj * g->dw - d->sub);
}

/* the stores of a padded-width side's product into output planes of width ow: for each
   vector, one per output row it covers (lanes ox < ow only) */
static void side_segs(side *d, int64_t ow, seg *sg, int32_t *first) {
  d->seg = sg, d->first = first;
  int32_t n = 0;
  for (int64_t v = 0; v < d->qv; v++) {
    first[v] = n;
    for (int64_t lane = 0; !d->same && lane < VL && v * VL + lane < d->q;) {
      int64_t q = v * VL + lane, oy = q / d->wp, ox = q % d->wp;
      int64_t run = d->wp - ox < VL - lane ? d->wp - ox : VL - lane;
      int64_t valid = ow - ox < 0 ? 0 : ow - ox < run ? ow - ox : run;
      if (valid > 0) sg[n++] = (seg){(int32_t)(oy * ow + ox - lane), ((1u << valid) - 1) << lane};
      lane += run;
    }
  }
  first[d->qv] = n;
}

static int plan_open(plan *p, const geom *g, const float *w, const float *b) {
  int64_t khw = g->kh * g->kw, gph = (g->kh - 1) * g->dh - g->ph;
  *p = (plan){.g = g, .rows = g->rows_g};
  p->in = side_of(g, g->cin, g->h, g->w, g->ph, g->pw, g->cout, g->oh);
  p->gy = side_of(g, g->cout, g->oh, g->ow, gph, (g->kw - 1) * g->dw - g->pw, g->cin, g->h);
  p->cop = round_up(g->cout, VL), p->rows_w = round_up(p->rows, WR);
  int64_t mo = round_up(g->cout, MR), mi = round_up(g->cin, MR);
  p->gt_fl = (size_t)(p->in.q * p->cop);
  /* partial sums in lanes when they fit in L1 (1 -> 32: 24 KB) and the planes are the
     output's positions: measured, the transpose then costs more than the sums save */
  p->lanes = p->in.same && g->cout % PO == 0 && g->cout * p->rows_w * VL <= 8192;
  p->dwt_fl = (size_t)(p->lanes ? g->cout * p->rows_w * VL : p->rows_w * p->cop);
  p->per_fl = (size_t)(p->in.copies * p->in.cs + p->gy.copies * p->gy.cs) + p->gt_fl + p->dwt_fl +
              (size_t)p->cop * 2;
  size_t nf = (size_t)(mo * p->rows + mi * g->cout * khw + mo);
  size_t nseg = (size_t)((p->in.qv + p->gy.qv) * (VL + 1) + 2);
  p->shared_bytes = nf * sizeof(float) + (size_t)(p->rows + g->cout * khw) * sizeof(int32_t) +
                    nseg * (sizeof(seg) + sizeof(int32_t));
  if (!(p->shared = nn_alloc(p->shared_bytes)))
    return nn_errc("out of memory for the conv's packed weights (%zu bytes)", p->shared_bytes);
  float *af = p->shared, *ab = af + mo * p->rows, *bias = ab + mi * g->cout * khw;
  int32_t *of = (int32_t *)(bias + mo), *ob = of + p->rows;
  for (int64_t o = 0; o < mo; o++) /* forward: (k = (c, tap), r = output channel) */
    for (int64_t k = 0; k < p->rows; k++)
      af[o / MR * MR * p->rows + k * MR + o % MR] = o < g->cout ? w[o * p->rows + k] : 0;
  for (int64_t c = 0; c < mi; c++) /* input gradient: (k = (output channel, tap), r = c) */
    for (int64_t k = 0; k < g->cout * khw; k++)
      ab[c / MR * MR * g->cout * khw + k * MR + c % MR] =
          c < g->cin ? w[(k / khw * g->cin + c) * khw + k % khw] : 0;
  for (int64_t o = 0; o < mo; o++) bias[o] = b && o < g->cout ? b[o] : 0;
  for (int64_t r = 0; r < p->rows; r++)
    of[r] = side_off(&p->in, g, r / khw, r % khw / g->kw, r % g->kw);
  for (int64_t r = 0; r < g->cout * khw; r++) /* the taps reversed */
    ob[r] = side_off(&p->gy, g, r / khw, g->kh - 1 - r % khw / g->kw, g->kw - 1 - r % g->kw);
  seg *sg = (seg *)(ob + g->cout * khw);
  int32_t *first = (int32_t *)(sg + (p->in.qv + p->gy.qv) * VL);
  side_segs(&p->in, g->ow, sg, first);
  sg += p->in.qv * VL, first += p->in.qv + 1;
  side_segs(&p->gy, g->w, sg, first);
  p->fwd = (product){.mrows = mo, .k = p->rows, .qv = p->in.qv, .a = af, .off = of, .bias = bias};
  p->bwd = (product){.mrows = mi, .k = g->cout * khw, .qv = p->gy.qv, .a = ab, .off = ob};
  return 0;
}

/* ======== the kernels ======== */

/* MR rows x nv vectors of O from column v0 on */
AVX512 INLINE void tile(const product *pr, const float *a, const float *bias, const float *src,
                        float *c, int64_t ldc, int nv, int64_t mvalid, int64_t lim, const side *d,
                        int64_t v0) {
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
    for (int v = 0; v < nv; v++) acc[r][v] = bias ? _mm512_set1_ps(bias[r]) : _mm512_setzero_ps();
  const int32_t *off = pr->off;
  for (int64_t k = 0; k < pr->k; k++, a += MR) {
    const float *s = src + off[k];
    __m512 b[NV];
#pragma GCC unroll 3
    for (int v = 0; v < nv; v++) b[v] = _mm512_loadu_ps(s + v * VL);
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      __m512 ar = _mm512_set1_ps(a[r]);
#pragma GCC unroll 3
      for (int v = 0; v < nv; v++) acc[r][v] = _mm512_fmadd_ps(ar, b[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) {
    if (r >= mvalid) break;
#pragma GCC unroll 3
    for (int v = 0; v < nv; v++) {
      int64_t left = lim - v * VL;
      if (d) { /* padded width: c is the plane */
        for (int32_t k = d->first[v0 + v]; k < d->first[v0 + v + 1]; k++)
          _mm512_mask_storeu_ps(c + r * ldc + d->seg[k].off, (__mmask16)d->seg[k].mask, acc[r][v]);
      } else if (left >= VL)
        _mm512_storeu_ps(c + r * ldc + v * VL, acc[r][v]);
      else if (left > 0)
        _mm512_mask_storeu_ps(c + r * ldc + v * VL, (__mmask16)((1u << left) - 1), acc[r][v]);
    }
  }
}

/* O = the product on the planes src, into c: rows ldc apart, lim floats each (the first
   mvalid rows only) */
AVX512 static void run_product(const product *pr, const float *src, float *c, int64_t ldc,
                               int64_t lim, int64_t mvalid, const side *d) {
  for (int64_t m = 0; m < pr->mrows; m += MR) {
    const float *a = pr->a + m * pr->k, *bias = pr->bias ? pr->bias + m : NULL;
    int64_t mv = mvalid - m < MR ? mvalid - m : MR;
    for (int64_t v = 0; v < pr->qv; v += NV) {
      int64_t left = pr->qv - v, l = lim - v * VL;
      float *cm = c + m * ldc + (d ? 0 : v * VL);
      if (left >= 3)
        tile(pr, a, bias, src + v * VL, cm, ldc, 3, mv, l, d, v);
      else if (left == 2)
        tile(pr, a, bias, src + v * VL, cm, ldc, 2, mv, l, d, v);
      else
        tile(pr, a, bias, src + v * VL, cm, ldc, 1, mv, l, d, v);
    }
  }
}

/* WR rows of dW^T (rows rp, each read at q) x nv vectors: d += sum_q rp[r][q] gt[q], over the
   positions q = oy wp + ox with ox < ow (the dropped columns of a padded width are skipped) */
AVX512 INLINE void wtile(const float *const *rp, const float *gt, int64_t cop, const side *s,
                         int64_t ow, float *d, int nv) {
  __m512 acc[WR][WV];
#pragma GCC unroll 6
  for (int r = 0; r < WR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) acc[r][v] = _mm512_loadu_ps(d + r * cop + v * VL);
  const float *r0 = rp[0], *r1 = rp[1], *r2 = rp[2], *r3 = rp[3], *r4 = rp[4], *r5 = rp[5];
  for (int64_t j0 = 0; j0 < s->q; j0 += s->wp)
    for (int64_t j = j0; j < j0 + ow; j++) {
      __m512 b[WV];
#pragma GCC unroll 4
      for (int v = 0; v < nv; v++) b[v] = _mm512_loadu_ps(gt + j * cop + v * VL);
      const float *row[WR] = {r0, r1, r2, r3, r4, r5};
#pragma GCC unroll 6
      for (int r = 0; r < WR; r++) {
        __m512 a = _mm512_set1_ps(row[r][j]);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
      }
    }
#pragma GCC unroll 6
  for (int r = 0; r < WR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) _mm512_storeu_ps(d + r * cop + v * VL, acc[r][v]);
}

/* dW^T (rows_w x cop) += the planes xp against gt */
AVX512 static void run_wgrad(const plan *p, const float *xp, const float *gt, float *dwt) {
  const int32_t *off = p->fwd.off;
  for (int64_t r = 0; r < p->rows; r += WR) {
    const float *rp[WR];
    for (int j = 0; j < WR; j++) rp[j] = xp + off[r + j < p->rows ? r + j : p->rows - 1];
    for (int64_t v = 0; v < p->cop / VL; v += WV) {
      int64_t left = p->cop / VL - v;
      float *d = dwt + r * p->cop + v * VL;
      if (left >= 4)
        wtile(rp, gt + v * VL, p->cop, &p->in, p->g->ow, d, 4);
      else if (left == 3)
        wtile(rp, gt + v * VL, p->cop, &p->in, p->g->ow, d, 3);
      else if (left == 2)
        wtile(rp, gt + v * VL, p->cop, &p->in, p->g->ow, d, 2);
      else
        wtile(rp, gt + v * VL, p->cop, &p->in, p->g->ow, d, 1);
    }
  }
}
/* dW in lanes: PO channels of gy x WR rows rp, each (o, r) VL partial sums in d (rows of
   ldd floats a channel) += gy[o][p] rp[r][p] over the n positions */
AVX512 static void lanes_tile(const float *gy, int64_t n, const float *const *rp, float *d,
                              int64_t ldd) {
  __m512 acc[PO][WR];
#pragma GCC unroll 4
  for (int o = 0; o < PO; o++)
#pragma GCC unroll 6
    for (int r = 0; r < WR; r++) acc[o][r] = _mm512_setzero_ps();
  for (int64_t q = 0; q < n; q += VL) {
    __mmask16 m = n - q >= VL ? (__mmask16)0xffff : (__mmask16)((1u << (n - q)) - 1);
    __m512 a[PO];
#pragma GCC unroll 4
    for (int o = 0; o < PO; o++) a[o] = _mm512_maskz_loadu_ps(m, gy + o * n + q);
#pragma GCC unroll 6
    for (int r = 0; r < WR; r++) {
      __m512 b = _mm512_maskz_loadu_ps(m, rp[r] + q);
#pragma GCC unroll 4
      for (int o = 0; o < PO; o++) acc[o][r] = _mm512_fmadd_ps(a[o], b, acc[o][r]);
    }
  }
#pragma GCC unroll 4
  for (int o = 0; o < PO; o++)
#pragma GCC unroll 6
    for (int r = 0; r < WR; r++) {
      float *t = d + o * ldd + r * VL;
      _mm512_storeu_ps(t, _mm512_add_ps(_mm512_loadu_ps(t), acc[o][r]));
    }
}

/* dW in lanes from one image's gy (NCHW) and planes xp; sums[o] += gy's sums */
AVX512 static void run_lanes(const plan *p, const float *xp, const float *gy, float *d,
                             double *sums) {
  const geom *g = p->g;
  int64_t n = g->ohw, ldd = p->rows_w * VL;
  for (int64_t r = 0; r < p->rows; r += WR) {
    const float *rp[WR];
    for (int j = 0; j < WR; j++) rp[j] = xp + p->fwd.off[r + j < p->rows ? r + j : p->rows - 1];
    for (int64_t o = 0; o < g->cout; o += PO)
      lanes_tile(gy + o * n, n, rp, d + o * ldd + r * VL, ldd);
  }
  for (int64_t o = 0; sums && o < g->cout; o++) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t q = 0; q < n; q += VL) {
      __mmask16 m = n - q >= VL ? (__mmask16)0xffff : (__mmask16)((1u << (n - q)) - 1);
      acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, gy + o * n + q));
    }
    sums[o] += _mm512_reduce_add_ps(acc);
  }
}

/* ======== the moves of an image ======== */

/* n floats from s to d with those before lo and from hi on zero */
AVX512 INLINE void copy_cut(float *d, const float *s, int64_t n, int64_t lo, int64_t hi) {
  for (int64_t i = 0; i < n; i += VL, s += VL, d += VL) {
    int64_t a = lo - i > 0 ? lo - i : 0, b = hi - i < VL ? hi - i : VL, e = n - i < VL ? n - i : VL;
    __mmask16 keep = b > a ? (__mmask16)(((1u << b) - 1) & ~((1u << a) - 1)) : 0;
    _mm512_mask_storeu_ps(d, (__mmask16)((1u << e) - 1), _mm512_maskz_loadu_ps(keep, s));
  }
}

/* the side's planes (every copy) from src. The same width's planes are contiguous runs
   as in src: each is copied in one run, then the cut columns zeroed. */
AVX512 static void fill(const side *d, const geom *g, const float *src, float *dst) {
  int64_t plane = d->rows * d->cols;
  for (int64_t j = 0; j < d->copies; j++) {
    int64_t shift = d->same ? j * g->dw - d->sub : 0;
    int64_t lo = shift > 0 ? shift : 0, hi = shift < 0 ? d->cols + shift : d->cols;
    float *base = dst + j * d->cs + d->lead + d->pr * d->wp + d->pc;
    for (int64_t c = 0; c < d->n; c++) {
      float *pd = base + c * d->ps;
      const float *ps = src + c * plane;
      if (!d->same) {
        for (int64_t y = 0; y < d->rows; y++)
          copy_cut(pd + y * d->wp, ps + y * d->cols, d->cols, 0, d->cols);
        continue;
      }
      copy_cut(pd, ps, plane, 0, plane);
      for (int64_t y = 0; y < d->rows; y++) {
        float *row = pd + y * d->cols;
        for (int64_t x = 0; x < lo; x++) row[x] = 0;
        for (int64_t x = hi; x < d->cols; x++) row[x] = 0;
      }
    }
  }
}

/* the 16 x 16 floats r transposed in place */
AVX512 INLINE void transpose16(__m512 *r) {
  __m512 t[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; i += 2)
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]), t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
#define PD(f, a, b) _mm512_castpd_ps(f(_mm512_castps_pd(a), _mm512_castps_pd(b)))
#pragma GCC unroll 16
  for (int i = 0; i < 16; i += 4) {
    r[i] = PD(_mm512_unpacklo_pd, t[i], t[i + 2]),
    r[i + 1] = PD(_mm512_unpackhi_pd, t[i], t[i + 2]);
    r[i + 2] = PD(_mm512_unpacklo_pd, t[i + 1], t[i + 3]);
    r[i + 3] = PD(_mm512_unpackhi_pd, t[i + 1], t[i + 3]);
  }
#undef PD
/* r[4 g + k], lane L: column 4 L + k of rows 4 g .. 4 g + 3 */
#pragma GCC unroll 16
  for (int k = 0; k < 4; k++) {
    __m512 v1 = _mm512_shuffle_f32x4(r[k], r[4 + k], 0x88),
           v2 = _mm512_shuffle_f32x4(r[k], r[4 + k], 0xdd);
    __m512 w1 = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0x88);
    __m512 w2 = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0xdd);
    t[k] = _mm512_shuffle_f32x4(v1, w1, 0x88), t[8 + k] = _mm512_shuffle_f32x4(v1, w1, 0xdd);
    t[4 + k] = _mm512_shuffle_f32x4(v2, w2, 0x88), t[12 + k] = _mm512_shuffle_f32x4(v2, w2, 0xdd);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; i++) r[i] = t[i];
}

/* gt[oy wp + ox][o] = gy[o][oy][ox] (the other entries stay 0), and sums[o] += its sum;
   16 channels by 16 positions at a time */
AVX512 static void transpose_out(const plan *p, const float *gy, float *gt, double *sums) {
  const geom *g = p->g;
  for (int64_t o0 = 0; o0 < g->cout; o0 += VL) {
    __m512 sum = _mm512_setzero_ps();
    for (int64_t p0 = 0; p0 < g->ohw; p0 += VL) {
      int64_t np = g->ohw - p0 < VL ? g->ohw - p0 : VL;
      __mmask16 m = (__mmask16)((1u << np) - 1);
      __m512 r[16];
#pragma GCC unroll 16
      for (int j = 0; j < 16; j++)
        r[j] = o0 + j < g->cout ? _mm512_maskz_loadu_ps(m, gy + (o0 + j) * g->ohw + p0)
                                : _mm512_setzero_ps();
      transpose16(r);
#pragma GCC unroll 16
      for (int i = 0; i < 16; i++) {
        if (i >= np) break;
        int64_t pos = p0 + i, q = pos / g->ow * p->in.wp + pos % g->ow;
        _mm512_storeu_ps(gt + q * p->cop + o0, r[i]);
        sum = _mm512_add_ps(sum, r[i]);
      }
    }
    if (!sums) continue;
    float part[VL];
    _mm512_storeu_ps(part, sum);
    for (int j = 0; j < VL && o0 + j < g->cout; j++) sums[o0 + j] += part[j];
  }
}

/* ======== the images, on the threads ======== */

typedef struct job {
  const plan *p;
  const float *x, *gy;
  float *y, *dx;
  bool dw;
  bool sums;
  char *buf;           /* per thread: per_fl floats, then cout sums */
  size_t buf_stride;   /* bytes */
  char *part;          /* per chunk of images: its share of dW^T and of the sums */
  size_t part_stride;  /* bytes */
  int64_t per, chunks; /* images a chunk, chunks */
  atomic_int slot;     /* the next thread's buffers */
  atomic_llong chunk;  /* the next chunk not taken */
  int used;
} job;

typedef struct bufs {
  float *xp, *gp, *gt, *dwt;
  double *sums;
} bufs;

static bufs bufs_of(const job *j, int k) {
  const plan *p = j->p;
  float *f = (float *)(j->buf + (size_t)k * j->buf_stride);
  bufs b = {.xp = f};
  b.gp = b.xp + p->in.copies * p->in.cs, b.gt = b.gp + p->gy.copies * p->gy.cs;
  b.dwt = b.gt + p->gt_fl, b.sums = (double *)(b.dwt + p->dwt_fl);
  return b;
}

/* the product of side d into the NCHW planes dst (m of them): in place for the same width,
   else through out */
static void product_out(const product *pr, const side *d, const float *planes, int64_t m,
                        int64_t rows, int64_t cols, float *dst) {
  run_product(pr, planes, dst, rows * cols, rows * cols, m, d->same ? NULL : d);
}

static void image_forward(const job *j, const bufs *b, int64_t i) {
  const plan *p = j->p;
  const geom *g = p->g;
  fill(&p->in, g, j->x + i * g->cin * g->h * g->w, b->xp);
  product_out(&p->fwd, &p->in, b->xp, g->cout, g->oh, g->ow, j->y + i * g->cout * g->ohw);
}

static void image_backward(const job *j, const bufs *b, int64_t i) {
  const plan *p = j->p;
  const geom *g = p->g;
  const float *gy = j->gy + i * g->cout * g->ohw;
  if (j->dw) {
    fill(&p->in, g, j->x + i * g->cin * g->h * g->w, b->xp);
    if (p->lanes)
      run_lanes(p, b->xp, gy, b->dwt, j->sums ? b->sums : NULL);
    else {
      transpose_out(p, gy, b->gt, j->sums ? b->sums : NULL);
      run_wgrad(p, b->xp, b->gt, b->dwt);
    }
  } else if (j->sums)
    for (int64_t o = 0; o < g->cout; o++)
      for (int64_t q = 0; q < g->ohw; q++) b->sums[o] += gy[o * g->ohw + q];
  if (j->dx) {
    fill(&p->gy, g, gy, b->gp);
    product_out(&p->bwd, &p->gy, b->gp, g->cin, g->h, g->w, j->dx + i * g->cin * g->h * g->w);
  }
}

static void piece(int64_t lo, int64_t hi, void *ctx) {
  (void)lo, (void)hi;
  job *j = ctx;
  int k = atomic_fetch_add(&j->slot, 1);
  bufs b = bufs_of(j, k);
  memset(b.xp, 0, j->buf_stride);
  for (int64_t c; (c = atomic_fetch_add(&j->chunk, 1)) < j->chunks;) {
    int64_t i0 = c * j->per, i1 = i0 + j->per < j->p->g->n ? i0 + j->per : j->p->g->n;
    if (j->gy) { /* the chunk's own sums: added up in chunk order after, whoever ran it */
      b.dwt = (float *)(j->part + (size_t)c * j->part_stride);
      b.sums = (double *)(b.dwt + j->p->dwt_fl);
      memset(b.dwt, 0, j->part_stride);
    }
    for (int64_t i = i0; i < i1; i++)
      if (j->gy)
        image_backward(j, &b, i);
      else
        image_forward(j, &b, i);
  }
}

/* Runs the images on the threads; the buffers are freed by the caller. */
static int run_job(job *j) {
  int t = nn_pool_threads();
  if (t > MAX_THREADS) t = MAX_THREADS;
  if (t > j->p->g->n) t = (int)j->p->g->n;
  if (t < 1) t = 1;
  j->buf_stride = round_up((int64_t)(j->p->per_fl * sizeof(float)), 64);
  /* the forward sums nothing across images: one image a chunk, the finest share */
  j->chunks = j->gy && j->p->g->n > CHUNKS ? CHUNKS : j->p->g->n;
  j->per = (j->p->g->n + j->chunks - 1) / j->chunks, j->chunks = (j->p->g->n + j->per - 1) / j->per;
  j->part_stride =
      j->gy ? (size_t)round_up(
                  (int64_t)(j->p->dwt_fl * sizeof(float)) + j->p->cop * (int64_t)sizeof(double), 64)
            : 0;
  size_t bytes = (size_t)t * j->buf_stride + (size_t)j->chunks * j->part_stride;
  if (!(j->buf = nn_alloc(bytes)))
    return nn_errc("out of memory for the conv's buffers (%zu bytes)", bytes);
  j->part = j->buf + (size_t)t * j->buf_stride;
  j->used = t;
  if (t == 1)
    piece(0, 1, j);
  else
    nn_parallel(t, 1, piece, j);
  return 0;
}

int conv_direct_forward(const geom *g, const float *x, const float *w, const float *b, float *y) {
  plan p;
  if (plan_open(&p, g, w, b) < 0) return -1;
  job j = {.p = &p, .x = x, .y = y};
  int rc = run_job(&j);
  if (j.buf) nn_free(j.buf, (size_t)j.used * j.buf_stride + (size_t)j.chunks * j.part_stride);
  nn_free(p.shared, p.shared_bytes);
  return rc;
}

/* a thread's part of dW[o][r] */
static float dw_part(const plan *p, const float *dwt, int64_t o, int64_t r) {
  if (!p->lanes) return dwt[r * p->cop + o];
  const float *l = dwt + (o * p->rows_w + r) * VL;
  float s = 0;
  for (int k = 0; k < VL; k++) s += l[k];
  return s;
}

int conv_direct_backward(const geom *g, const float *x, const float *w, const float *gy, float *dx,
                         float *dw, double *sums) {
  plan p;
  if (plan_open(&p, g, w, NULL) < 0) return -1;
  job j = {.p = &p, .x = x, .gy = gy, .dx = dx, .dw = dw != NULL, .sums = sums != NULL};
  int rc = run_job(&j);
  if (rc == 0) {
    for (int64_t c = 0; c < j.chunks; c++) { /* in chunk order: the same sums every run */
      const float *part = (const float *)(j.part + (size_t)c * j.part_stride);
      const double *psums = (const double *)(part + p.dwt_fl);
      for (int64_t o = 0; dw && o < g->cout; o++)
        for (int64_t r = 0; r < p.rows; r++)
          dw[o * p.rows + r] = (c ? dw[o * p.rows + r] : 0) + dw_part(&p, part, o, r);
      for (int64_t o = 0; sums && o < g->cout; o++) sums[o] += psums[o];
    }
  }
  if (j.buf) nn_free(j.buf, (size_t)j.used * j.buf_stride + (size_t)j.chunks * j.part_stride);
  nn_free(p.shared, p.shared_bytes);
  return rc;
}

#else

int conv_direct_forward(const geom *g, const float *x, const float *w, const float *b, float *y) {
  (void)g, (void)x, (void)w, (void)b, (void)y;
  return nn_errc("conv: no direct path on this build");
}

int conv_direct_backward(const geom *g, const float *x, const float *w, const float *gy, float *dx,
                         float *dw, double *sums) {
  (void)g, (void)x, (void)w, (void)gy, (void)dx, (void)dw, (void)sums;
  return nn_errc("conv: no direct path on this build");
}

#endif
