/*
** nn/lua/llinalg.c: matrix products. One C function for all of them, the op entry in an
** upvalue, as for the elementwise ops; both operands must be tensors.
*/
#include "nn/lua/lnn.h"
#include "nn/ops.h"

/* The bytes of a's product with b, near enough for lnn_gc_before: the rows of a (its
   elements over its last size) times the columns of b; for outer, every pair. */
static size_t product_bytes(const nn_op *op, const nn_tensor *a, const nn_tensor *b) {
  int64_t na = nn_numel(a), nb = nn_numel(b);
  int64_t k = a->ndim ? a->shape[a->ndim - 1] : 1, m = b->ndim >= 2 ? b->shape[b->ndim - 1] : 1;
  int64_t n = op == &nn_op_outer ? na * nb : (k > 0 ? na / k : 0) * m;
  return (size_t)n * nn_dtype_size(a->dtype);
}

static int l_product(lua_State *L) {
  const nn_op *op = lua_touserdata(L, lua_upvalueindex(1));
  nn_tensor *a = lnn_check(L, 1), *b = lnn_check(L, 2);
  lnn_gc_before(L, product_bytes(op, a, b), a, b);
  lnn_push(L, nn_call(op, (nn_tensor *[]){a, b}, NULL));
  return 1;
}

static const struct {
  const nn_op *op;
  lnn_reg reg;
} products[] = {
    {&nn_op_matmul,
     {"matmul", NULL, "nn.matmul(a, b) -> tensor",
      "The matrix product, as PyTorch's: vectors, matrices, and batches that broadcast."}},
    {&nn_op_mm, {"mm", NULL, "nn.mm(a, b) -> tensor", "The product of two matrices (2-D only)."}},
    {&nn_op_bmm,
     {"bmm", NULL, "nn.bmm(a, b) -> tensor",
      "Batched matrix products: (b, n, m) times (b, m, p) gives (b, n, p)."}},
    {&nn_op_outer,
     {"outer", NULL, "nn.outer(u, v) -> tensor", "The outer product of two vectors."}},
};

void lnn_open_linalg(lua_State *L) {
  for (size_t k = 0; k < sizeof products / sizeof *products; k++) {
    lua_pushlightuserdata(L, (void *)products[k].op);
    lua_pushcclosure(L, l_product, 1);
    lnn_register_top(L, "Linear algebra", LNN_BOTH, &products[k].reg);
  }
}
