/*
** nn/autograd.c: the tape (nodes recorded by nn_call), backward, and forward-mode tangents.
*/
#include <stdlib.h>
#include <string.h>

#include "nn/alloc.h"
#include "nn/autograd.h"
#include "nn/iter.h"
#include "nn/ops.h"

static bool grad_on = true, anomaly;
static int fwd_level;
nn_hook_api nn_hooks;

bool nn_grad_enabled(void) {
  return grad_on;
}

bool nn_set_grad_enabled(bool on) {
  bool was = grad_on;
  grad_on = on;
  return was;
}

bool nn_set_detect_anomaly(bool on) {
  bool was = anomaly;
  anomaly = on;
  return was;
}

bool nn_detect_anomaly(void) {
  return anomaly;
}

static void find_nonfinite(char **p, const int64_t *s, int64_t n, void *ctx) {
  int *found = ctx; /* in: the dtype; out: 1 for nan, 2 for an infinity */
  bool f32 = *found == NN_F32;
  for (int64_t i = 0; i < n && *found < 100; i++) {
    if ((i & 0xffff) == 0 && nn_interrupted()) return; /* the caller raises "interrupted" */
    double v = f32 ? *(const float *)(p[0] + i * s[0]) : *(const double *)(p[0] + i * s[0]);
    if (v != v)
      *found = 100 + 1;
    else if (v - v != 0)
      *found = 100 + 2;
  }
}

/* "nan", "inf" or NULL: what t holds that is not finite (floats only). An expanded dim
   (stride 0) repeats the same elements: it is read once, so the scan reads each element of
   memory at most once however large the view (a 2^62-element broadcast is its few elements);
   Ctrl-C stops it (nn_interrupted(), which the caller checks). */
static const char *nonfinite(const nn_tensor *t) {
  if (!t || !nn_dtype_is_float(t->dtype)) return NULL;
  int found = t->dtype;
  nn_tensor distinct = *t;
  for (int d = 0; d < t->ndim; d++)
    if (t->stride[d] == 0) distinct.shape[d] = 1;
  const nn_tensor *v = &distinct;
  nn_iter it;
  if (nn_iter_init(&it, 1, &v) < 0) return NULL;
  nn_iter_run(&it, find_nonfinite, &found);
  return found == 101 ? "nan" : found == 102 ? "inf" : NULL;
}

int nn_anomaly_check_forward(const nn_op *op, int nin, nn_tensor *const *in, int nout,
                             nn_tensor *const *out) {
  for (int k = 0; k < nout; k++) {
    const char *bad = nonfinite(out[k]);
    if (nn_interrupted()) return nn_interrupt_error();
    if (!bad) continue;
    for (int j = 0; j < nin; j++)
      if (nonfinite(in[j])) return 0; /* carried from an input: an earlier op made it */
    if (nn_interrupted()) return nn_interrupt_error();
    return nn_errc("detect_anomaly: %s produced %s in its output%s (from finite inputs)", op->name,
                   bad,
                   nout > 1 ? (k == 0   ? " 1"
                               : k == 1 ? " 2"
                                        : " 3+")
                            : "");
  }
  return 0;
}

void nn_fwd_enter(void) {
  fwd_level++;
}
void nn_fwd_leave(void) {
  fwd_level--;
}
int nn_fwd_suspend(void) {
  int level = fwd_level;
  fwd_level = 0;
  return level;
}
void nn_fwd_resume(int level) {
  fwd_level = level;
}
bool nn_fwd_active(void) {
  return fwd_level > 0;
}

const char *nn_node_name(const nn_node *n) {
  return n->ctx.op->name;
}

/* ---- nodes ---- */

/* A node and, after it, its inputs, per-output gradients, saved tensors and per-output hooks. */
static size_t node_size(int nin, int nout, int nsaved) {
  return sizeof(nn_node) + (size_t)(nin + nout + nsaved) * sizeof(nn_tensor *) +
         (size_t)nout * sizeof(int) + (size_t)(nin + 1) * sizeof(uint32_t);
}

static size_t node_bytes(const nn_node *n) {
  return node_size(n->nalloc, n->ctx.nout, n->nsaved);
}

/* What a node keeps of a non-leaf input whose values its VJP never reads: the shape, dtype and
   place in the graph (grad_fn, out_index) over an empty storage, so that the data goes when
   nothing else holds it. A leaf is kept itself: its gradient accumulates into it. */
static nn_tensor *keep_input(const nn_op *op, int k, nn_tensor *t) {
  if (k >= 32 || !(op->in_unread >> k & 1) || !t->grad_fn) return nn_retain(t);
  int64_t none = 0;
  nn_tensor *h = nn_empty(t->dtype, 1, &none);
  if (!h) return NULL;
  h->ndim = t->ndim;
  memcpy(h->shape, t->shape, sizeof t->shape);
  memcpy(h->stride, t->stride, sizeof t->stride);
  h->requires_grad = true;
  h->grad_fn = t->grad_fn, h->out_index = t->out_index;
  h->grad_fn->refs++;
  return h;
}

static nn_node *node_new(const nn_op *op, int nin, nn_tensor *const *in, const nn_attr *a, int nout,
                         nn_tensor *const *out, int nsaved, nn_tensor *const *saved) {
  size_t size = node_size(nin, nout, nsaved);
  nn_node *n = nn_small_alloc(size);
  if (!n) return nn_err("out of memory recording %s", op->name);
  memset(n, 0, size);
  nn_tensor **tail = (nn_tensor **)(n + 1);
  n->ctx.op = op;
  n->ctx.nin = nin;
  n->ctx.in = tail;
  n->ctx.nout = nout;
  n->gacc = tail + nin;
  n->ctx.saved = tail + nin + nout;
  n->hooks = (int *)(tail + nin + nout + nsaved);
  n->versions = (uint32_t *)(n->hooks + nout);
  n->nalloc = nin;
  n->nsaved = n->ctx.nsaved = nsaved;
  int kept = 0;
  while (kept < nin && (n->ctx.in[kept] = keep_input(op, kept, in[kept]))) {
    n->versions[kept] = n->ctx.in[kept]->storage->version;
    kept++;
  }
  for (int k = 0; k < nsaved; k++) n->ctx.saved[k] = nn_retain(saved[k]);
  if (a) n->ctx.attr = *a;
  if (kept < nin || (op->save_out && nout == 1 && !(n->ctx.out = nn_alias(out[0])))) {
    for (int k = 0; k < kept; k++) nn_release(n->ctx.in[k]);
    for (int k = 0; k < nsaved; k++) nn_release(saved[k]);
    nn_small_free(n, size);
    return NULL;
  }
  if (n->ctx.out) n->versions[nin] = n->ctx.out->storage->version;
  n->refs = nout;
  return n;
}

/* Releasing a long chain (an RNN unrolled over 10^4 steps) must not recurse once per node:
   inputs freed by a dying node wait in a list that the outermost release drains. */
static nn_tensor **doomed;
static size_t ndoomed, doomed_cap;
static bool draining;

static void defer_release(nn_tensor *t) {
  if (ndoomed == doomed_cap) {
    size_t cap = doomed_cap ? 2 * doomed_cap : 256;
    nn_tensor **grown = realloc(doomed, cap * sizeof *grown);
    if (!grown) { /* no room to defer: release now (recursion, but correct) */
      nn_release(t);
      return;
    }
    doomed = grown, doomed_cap = cap;
  }
  doomed[ndoomed++] = t;
}

static void node_free_buffers(nn_node *n) {
  for (int k = 0; k < n->ctx.nin; k++) defer_release(n->ctx.in[k]);
  n->ctx.nin = 0;
  for (int k = 0; k < n->ctx.nsaved; k++) defer_release(n->ctx.saved[k]);
  n->ctx.nsaved = 0;
  nn_release(n->ctx.out);
  n->ctx.out = NULL;
  for (int k = 0; k < n->ctx.nout; k++) nn_release(n->gacc[k]), n->gacc[k] = NULL;
  if (n->user_free) n->user_free(n->user);
  n->user_free = NULL;
  n->freed = true;
}

static void node_release(nn_node *n) {
  if (--n->refs > 0) return;
  for (int k = 0; k < n->ctx.nout; k++)
    if (n->hooks[k] && nn_hooks.drop) nn_hooks.drop(n->hooks[k]);
  node_free_buffers(n);
  nn_small_free(n, node_bytes(n));
  if (draining) return;
  draining = true;
  while (ndoomed > 0) nn_release(doomed[--ndoomed]);
  draining = false;
}

/* Overrides the weak default in tensor.c: a dying tensor drops its autograd state. */
void nn_release_grad_state(nn_tensor *t) {
  nn_release(t->grad);
  nn_release(t->tangent);
  if (t->hooks && nn_hooks.drop) nn_hooks.drop(t->hooks);
  if (t->grad_fn) node_release(t->grad_fn);
}

/* ---- recording (called by nn_call) ---- */

/* Any tangent among the inputs? tin gets them. */
static bool tangents_of(int nin, nn_tensor *const *in, nn_tensor **tin) {
  bool any = false;
  for (int k = 0; k < nin; k++) {
    tin[k] = in[k]->tangent;
    any |= tin[k] != NULL;
  }
  return any;
}

static int propagate_tangent(const nn_op *op, int nin, nn_tensor *const *in, const nn_attr *a,
                             int nout, nn_tensor *const *out, int nsaved, nn_tensor *const *saved) {
  nn_tensor *tin[nin > 0 ? nin : 1];
  if (!tangents_of(nin, in, tin) || !nn_op_differentiable(op))
    return 0; /* no tangent in, or a constant (argmax, comparisons) */
  if (!op->jvp && !op->jvp_multi) return nn_errc("%s has no forward-mode derivative", op->name);
  nn_ctx c = {.op = op,
              .nin = nin,
              .in = (nn_tensor **)in,
              .out = nout == 1 ? out[0] : NULL,
              .nout = nout,
              .nsaved = nsaved,
              .saved = (nn_tensor **)saved};
  if (a) c.attr = *a;
  /* the JVP's own ops see the inputs' tangents: neither record nor propagate them */
  bool was = nn_set_grad_enabled(false);
  int level = fwd_level, rc = 0;
  fwd_level = 0;
  if (op->jvp_multi) {
    nn_tensor *tout[NN_MAXOUT] = {0};
    rc = op->jvp_multi(&c, tin, tout);
    for (int k = 0; k < nout; k++) {
      if (rc == 0)
        out[k]->tangent = tout[k];
      else
        nn_release(tout[k]);
    }
  } else {
    out[0]->tangent = op->jvp(&c, tin);
    rc = out[0]->tangent ? 0 : -1;
  }
  fwd_level = level;
  nn_set_grad_enabled(was);
  return rc;
}

bool nn_autograd_wants(const nn_op *op, int nin, nn_tensor *const *in) {
  if (!nn_op_differentiable(op)) return false;
  for (int k = 0; k < nin; k++)
    if ((grad_on && in[k]->requires_grad) || (fwd_level > 0 && in[k]->tangent)) return true;
  return false;
}

int nn_autograd_record_multi(const nn_op *op, int nin, nn_tensor *const *in, const nn_attr *a,
                             int nout, nn_tensor *const *out, int nsaved, nn_tensor *const *saved) {
  if (fwd_level > 0 && propagate_tangent(op, nin, in, a, nout, out, nsaved, saved) < 0) return -1;
  if (!grad_on || !nn_op_differentiable(op)) return 0;
  bool any = false;
  for (int k = 0; k < nin; k++) any |= in[k]->requires_grad;
  if (!any) return 0;
  nn_node *n = node_new(op, nin, in, a, nout, out, nsaved, saved);
  if (!n) return -1;
  for (int k = 0; k < nout; k++) {
    out[k]->grad_fn = n;
    out[k]->out_index = k;
    out[k]->requires_grad = true;
  }
  return 0;
}

int nn_autograd_record(const nn_op *op, int nin, nn_tensor *const *in, const nn_attr *a,
                       nn_tensor *out) {
  return nn_autograd_record_multi(op, nin, in, a, 1, &out, 0, NULL);
}

/* ---- backward ---- */

typedef struct pass {
  unsigned mark;
  bool retain;
  int ntargets; /* capture mode when > 0: gradients go to grads[], not to .grad */
  nn_tensor *const *targets;
  nn_tensor **grads;
  nn_node **stack; /* work list, grown as needed */
  size_t n, cap;
  /* every node of the pass, retained until it ends: a VJP or hook that calls back into the
     binding (Lua hooks, nn.Function) may release tensors, and with them nodes still due */
  nn_node **held;
  size_t nheld, held_cap;
} pass;

/* Appends n to a list of len nodes with room for cap, grown as needed. */
static int append(nn_node ***list, size_t *len, size_t *cap, nn_node *n) {
  if (*len == *cap) {
    size_t grown_cap = *cap ? 2 * *cap : 64;
    nn_node **grown = realloc(*list, grown_cap * sizeof *grown);
    if (!grown) return nn_errc("out of memory in backward");
    *list = grown, *cap = grown_cap;
  }
  (*list)[(*len)++] = n;
  return 0;
}

static int hold(pass *p, nn_node *n) {
  if (append(&p->held, &p->nheld, &p->held_cap, n) < 0) return -1;
  n->refs++;
  return 0;
}

static int push(pass *p, nn_node *n) {
  return append(&p->stack, &p->n, &p->cap, n);
}

/* Adds g into *slot. A leaf's slot (user-visible: x.grad, nn.grad's results) keeps its first
   gradient, copied if anyone else holds it or its memory, and adds later ones in place. A
   node's slot only borrows its first gradient (the grad_output given to backward, say, is
   not copied for nothing): a later one is added in place only where the slot alone holds
   its memory, else into a new tensor. */
static int accumulate(nn_tensor **slot, nn_tensor *g, bool borrow) {
  if (!*slot) {
    bool alone = g->refs == 1 && g->storage->refs == 1 && nn_is_contiguous(g);
    *slot = alone || borrow ? nn_retain(g) : nn_clone(g);
    return *slot ? 0 : -1;
  }
  nn_tensor *s = *slot;
  if (!borrow || (s->refs == 1 && s->storage->refs == 1 && nn_is_contiguous(s)))
    return nn_call_into(&nn_op_add, s, (nn_tensor *[]){s, g}, NULL);
  nn_tensor *sum = nn_call(&nn_op_add, (nn_tensor *[]){s, g}, NULL);
  if (!sum) return -1;
  nn_release(s);
  *slot = sum;
  return 0;
}

/* A target is a leaf, or an output (node, index) of a node. */
static bool same_target(const nn_tensor *target, const nn_tensor *t) {
  return target == t ||
         (t->grad_fn && target->grad_fn == t->grad_fn && target->out_index == t->out_index);
}

static int target_index(const pass *p, const nn_tensor *t) {
  for (int i = 0; i < p->ntargets; i++)
    if (same_target(p->targets[i], t)) return i;
  return -1;
}

static nn_tensor *run_hooks(int handle, nn_tensor *g) {
  if (!handle || !nn_hooks.run) return nn_retain(g);
  return nn_hooks.run(handle, g);
}

/* Where a leaf's gradient goes: its .grad, or in capture mode its slot (NULL when the leaf
   is not a target: the gradient is dropped). */
static nn_tensor **leaf_slot(pass *p, nn_tensor *t) {
  if (p->ntargets == 0) return &t->grad;
  int i = target_index(p, t);
  return i >= 0 ? &p->grads[i] : NULL;
}

/* A gradient arriving at input t of a node: into its node, or into the leaf. */
static int route(pass *p, nn_tensor *t, nn_tensor *g) {
  if (t->grad_fn) return accumulate(&t->grad_fn->gacc[t->out_index], g, true);
  nn_tensor **slot = leaf_slot(p, t);
  if (!slot) return 0;
  if (!t->hooks) return accumulate(slot, g, false);
  nn_tensor *h = run_hooks(t->hooks, g);
  if (!h) return -1;
  int rc = accumulate(slot, h, false);
  nn_release(h);
  return rc;
}

/* Marks every node reachable from the roots and counts, for each, the edges into it. */
static int collect(pass *p, int nroots, nn_tensor *const *roots) {
  for (int r = 0; r < nroots; r++) {
    nn_node *n = roots[r]->grad_fn;
    if (n && n->mark != p->mark) {
      n->mark = p->mark, n->pending = 0;
      if (hold(p, n) < 0 || push(p, n) < 0) return -1;
    }
  }
  while (p->n > 0) {
    nn_node *n = p->stack[--p->n];
    if (n->freed)
      return nn_errc("the graph was freed by an earlier backward (pass {retain_graph = true} "
                     "to the first backward to run it twice)");
    for (int k = 0; k < n->ctx.nin; k++) {
      nn_node *m = n->ctx.in[k]->grad_fn;
      if (!m) continue;
      if (m->mark != p->mark) {
        m->mark = p->mark, m->pending = 0;
        if (hold(p, m) < 0 || push(p, m) < 0) return -1;
      }
      m->pending++;
    }
  }
  return 0;
}

static int check_grad_shape(const nn_node *n, int k, const nn_tensor *g) {
  const nn_tensor *x = n->ctx.in[k];
  if (nn_same_shape(g, x)) return 0;
  return nn_errc("backward of %s gave a gradient of shape %s for an input of shape %s",
                 nn_node_name(n), nn_shape_str(g), nn_shape_str(x));
}

/* The gradients reaching each output of n (after its hooks), and in capture mode the
   targets' copies. Sets *any when one flowed. */
static int take_gradients(pass *p, nn_node *n, nn_tensor **g, bool *any) {
  int rc = 0;
  *any = false;
  for (int k = 0; k < n->ctx.nout; k++) {
    g[k] = n->gacc[k];
    n->gacc[k] = NULL;
    if (g[k] && n->hooks[k]) {
      nn_tensor *h = run_hooks(n->hooks[k], g[k]);
      nn_release(g[k]);
      if (!(g[k] = h)) rc = -1;
    }
    *any |= g[k] != NULL;
  }
  for (int i = 0; rc == 0 && i < p->ntargets; i++) {
    const nn_tensor *t = p->targets[i];
    if (t->grad_fn == n && g[t->out_index] && accumulate(&p->grads[i], g[t->out_index], false) < 0)
      rc = -1;
  }
  return rc;
}

/* A tensor the VJP reads must be as it was when the op ran (as PyTorch's version check). */
static int check_versions(const nn_node *n) {
  const nn_ctx *c = &n->ctx;
  for (int k = 0; k <= c->nin; k++) {
    const nn_tensor *t = k < c->nin ? c->in[k] : c->out;
    if (!t || t->storage->version == n->versions[k]) continue;
    return nn_errc("a tensor of shape %s needed by the backward of %s (its %s) was modified by "
                   "an in-place operation after %s ran (version %u, expected %u): clone() it "
                   "before changing it",
                   nn_shape_str(t), nn_node_name(n), k < c->nin ? "input" : "output",
                   nn_node_name(n), (unsigned)t->storage->version, (unsigned)n->versions[k]);
  }
  return 0;
}

/* Runs the node's VJP on its accumulated gradients and routes the results. */
static int step(pass *p, nn_node *n) {
  nn_tensor *g[NN_MAXOUT];
  bool any;
  int nin = n->ctx.nin, rc = take_gradients(p, n, g, &any);
  bool need[nin > 0 ? nin : 1];
  nn_tensor *gin[nin > 0 ? nin : 1];
  for (int k = 0; k < nin; k++) need[k] = n->ctx.in[k]->requires_grad, gin[k] = NULL;
  if (any && rc == 0) rc = check_versions(n);
  if (any && rc == 0)
    rc = n->ctx.op->vjp_multi ? n->ctx.op->vjp_multi(&n->ctx, g, need, gin)
                              : n->ctx.op->vjp(&n->ctx, g[0], need, gin);
  /* before routing: a gradient passed through unchanged can then be kept */
  for (int k = 0; k < n->ctx.nout; k++) nn_release(g[k]);
  for (int k = 0; k < nin; k++) {
    nn_tensor *t = n->ctx.in[k];
    if (rc == 0 && gin[k] && need[k]) {
      rc = check_grad_shape(n, k, gin[k]);
      if (rc == 0) rc = route(p, t, gin[k]);
    }
    if (rc == 0 && anomaly && gin[k] && need[k] && nonfinite(gin[k]))
      rc = nn_errc("detect_anomaly: the backward of %s produced %s in the gradient of its "
                   "input %d",
                   nn_node_name(n), nonfinite(gin[k]), k + 1);
    nn_release(gin[k]);
    if (t->grad_fn && --t->grad_fn->pending == 0 && push(p, t->grad_fn) < 0) rc = -1;
  }
  if (!p->retain) node_free_buffers(n);
  return rc;
}

static int run(pass *p, int nroots, nn_tensor *const *roots, nn_tensor *const *gouts) {
  static unsigned passes;
  p->mark = ++passes;
  int rc = collect(p, nroots, roots);
  for (int r = 0; rc == 0 && r < nroots; r++)
    rc = roots[r]->grad_fn
             ? accumulate(&roots[r]->grad_fn->gacc[roots[r]->out_index], gouts[r], true)
             : route(p, roots[r], gouts[r]);
  for (int r = 0; rc == 0 && r < nroots; r++) {
    nn_node *n = roots[r]->grad_fn;
    if (n && n->pending == 0 && n->mark == p->mark) {
      n->mark = 0; /* pushed once, even when two roots share the node */
      rc = push(p, n);
    }
  }
  while (rc == 0 && p->n > 0) rc = step(p, p->stack[--p->n]);
  /* on failure, drop what was accumulated so the next pass starts clean */
  for (size_t i = 0; rc < 0 && i < p->nheld; i++)
    for (int k = 0; k < p->held[i]->ctx.nout; k++)
      nn_release(p->held[i]->gacc[k]), p->held[i]->gacc[k] = NULL;
  p->n = 0;
  free(p->stack);
  while (p->nheld > 0) node_release(p->held[--p->nheld]);
  free(p->held);
  return rc;
}

/* The gradient a root starts with: the given one (checked), or ones for a scalar. */
static nn_tensor *seed(nn_tensor *root, nn_tensor *gout) {
  if (!root->requires_grad) return nn_err("the tensor does not require grad and has no grad_fn");
  if (!gout) {
    if (nn_numel(root) != 1)
      return nn_err("grad can be implicitly created only for a single-element tensor, not "
                    "shape %s (pass a gradient)",
                    nn_shape_str(root));
    return nn_full(root->dtype, root->ndim, root->shape, 1.0);
  }
  if (!nn_same_shape(gout, root))
    return nn_err("gradient of shape %s does not match the tensor's shape %s", nn_shape_str(gout),
                  nn_shape_str(root));
  return nn_retain(gout);
}

int nn_grad(int nout, nn_tensor *const *roots, nn_tensor *const *gouts, int n,
            nn_tensor *const *targets, nn_tensor **grads, bool retain_graph) {
  enum { MAX_ROOTS = 64 };
  if (nout < 1 || nout > MAX_ROOTS)
    return nn_errc("%d outputs (1 to %d are supported)", nout, MAX_ROOTS);
  nn_tensor *seeds[MAX_ROOTS] = {0};
  int rc = 0;
  for (int r = 0; r < nout && rc == 0; r++)
    if (!(seeds[r] = seed(roots[r], gouts ? gouts[r] : NULL))) rc = -1;
  for (int i = 0; i < n; i++) grads[i] = NULL;
  if (rc == 0) {
    pass p = {.retain = retain_graph, .ntargets = n, .targets = targets, .grads = grads};
    bool was = nn_set_grad_enabled(false);
    rc = run(&p, nout, roots, seeds);
    nn_set_grad_enabled(was);
  }
  for (int r = 0; r < nout; r++) nn_release(seeds[r]);
  /* a target listed twice gets its gradient twice (routing fills only its first slot) */
  for (int i = 0; rc == 0 && i < n; i++)
    for (int j = 0; j < i && !grads[i]; j++)
      if (same_target(targets[j], targets[i]) && grads[j] && !(grads[i] = nn_clone(grads[j])))
        rc = -1;
  if (rc < 0)
    for (int i = 0; i < n; i++) nn_release(grads[i]), grads[i] = NULL;
  return rc;
}

int nn_backward(nn_tensor *root, nn_tensor *gout, bool retain_graph) {
  nn_tensor *s = seed(root, gout);
  if (!s) return -1;
  pass p = {.retain = retain_graph};
  bool was = nn_set_grad_enabled(false);
  int rc = run(&p, 1, &root, &s);
  nn_set_grad_enabled(was);
  nn_release(s);
  return rc;
}

int nn_autograd_check_inplace(const nn_op *op, const nn_tensor *out, int nin,
                              nn_tensor *const *in) {
  if (!grad_on && fwd_level == 0) return 0;
  bool tracked = out->requires_grad || out->tangent;
  for (int k = 0; k < nin; k++) tracked |= in[k]->requires_grad || in[k]->tangent;
  if (!tracked) return 0;
  return nn_errc("in-place %s on a tensor that requires grad (use the out-of-place form, or "
                 "run it under nn.no_grad)",
                 op->name);
}
