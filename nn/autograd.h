/*
** nn/autograd.h: reverse mode (a tape of nodes built while ops run) and forward mode
** (tangents carried along by nn_call).
**
** Every op run through nn_call while grad mode is on, on an input that requires grad,
** records a node: the op, its inputs (retained; a non-leaf input whose values the VJP never
** reads, op->in_unread, as a husk without its data), its attributes and, if the op asks, its
** output. The output tensor owns the node (t->grad_fn). Backward walks the nodes from the
** root in topological order (Kahn's algorithm, no recursion), calling each op's VJP, and
** accumulates into the leaves' .grad. Unless the graph is retained, each node's buffers are
** released as soon as its VJP has run.
*/
#ifndef NN_AUTOGRAD_H
#define NN_AUTOGRAD_H

#include "nn/op.h"

struct nn_node {
  nn_ctx ctx;
  int nalloc; /* inputs the node was allocated for (ctx.nin drops to 0 once freed) */
  int nsaved; /* saved tensors it was allocated for (ctx.nsaved drops to 0 once freed) */
  int refs;   /* one per live output, plus passes holding it */
  int *hooks; /* per output: gradient hooks on the tensors this node made (binding's handle) */
  uint32_t *versions; /* the storage versions of the inputs (and, last, of out) when recorded */
  bool freed;         /* buffers released by a backward without retain_graph */
  /* scratch for one backward pass */
  nn_tensor **gacc; /* per output: the gradient accumulated for it */
  int pending;      /* consumers not yet processed */
  unsigned mark;
  /* for ops implemented outside the core (nn.Function): released with the node */
  void *user;
  void (*user_free)(void *user);
};

/* grad mode: nn_grad_enabled() is true unless inside a no-grad scope */
bool nn_grad_enabled(void);
bool nn_set_grad_enabled(bool on); /* returns the previous mode */

/* anomaly detection: while on, an op whose output holds a NaN or an infinity that its
   inputs did not hold fails, naming itself (forward), and so does a backward step whose
   gradient does (reverse mode); off by default, and then it costs one test per op */
bool nn_set_detect_anomaly(bool on); /* returns the previous setting */
bool nn_detect_anomaly(void);
/* -1 with a message when op (forward) made a NaN or an infinity from finite inputs */
int nn_anomaly_check_forward(const nn_op *op, int nin, nn_tensor *const *in, int nout,
                             nn_tensor *const *out);

/* forward mode: while the level is > 0, nn_call propagates tangents */
void nn_fwd_enter(void);
void nn_fwd_leave(void);
/* leaves forward mode for a while (a custom op's forward, whose JVP is its own rule): returns
   the level that nn_fwd_resume restores */
int nn_fwd_suspend(void);
void nn_fwd_resume(int level);
bool nn_fwd_active(void); /* whether tangents are carried now */

/* called by nn_call after a successful forward */
int nn_autograd_record(const nn_op *op, int nin, nn_tensor *const *in, const nn_attr *a,
                       nn_tensor *out);
/* the same for a call with nout outputs and nsaved saved tensors (the node retains them) */
int nn_autograd_record_multi(const nn_op *op, int nin, nn_tensor *const *in, const nn_attr *a,
                             int nout, nn_tensor *const *out, int nsaved, nn_tensor *const *saved);
/* whether a call on these inputs would be recorded or carry tangents (its forward then saves) */
bool nn_autograd_wants(const nn_op *op, int nin, nn_tensor *const *in);
/* in-place ops may not touch tensors that autograd tracks; -1 with a message if they do */
int nn_autograd_check_inplace(const nn_op *op, const nn_tensor *out, int nin, nn_tensor *const *in);

/* The gradient hooks of the binding: run returns the gradient to use (a new reference) or
   NULL with an error; drop forgets a handle. */
typedef struct nn_hook_api {
  nn_tensor *(*run)(int handle, nn_tensor *grad);
  void (*drop)(int handle);
} nn_hook_api;
extern nn_hook_api nn_hooks;

/* Backward from root with gradient gout (NULL: root must have one element; ones). With
   capture (n targets), gradients for the targets are returned in grads[] (new references,
   NULL where no path exists) and nothing is accumulated into .grad. */
int nn_backward(nn_tensor *root, nn_tensor *gout, bool retain_graph);
int nn_grad(int nout, nn_tensor *const *roots, nn_tensor *const *gouts, int n,
            nn_tensor *const *targets, nn_tensor **grads, bool retain_graph);

/* the name of a node's op, for printing grad_fn */
const char *nn_node_name(const nn_node *n);

#endif
