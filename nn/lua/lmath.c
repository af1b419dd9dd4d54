/*
** nn/lua/lmath.c: elementwise math. Every unary op is one C function (l_unary) and every
** binary op another (l_binary): each registered closure carries its op entry as an upvalue,
** so adding an op to the core's table and a doc line here is all it takes. In-place forms
** (x:add_(y), x:relu_()) are two more such functions over nn_call_into. The arithmetic
** metamethods are the same closures as the methods.
*/
#include <math.h>

#include <lauxlib.h>

#include "nn/lua/lnn.h"
#include "nn/ops.h"

/* Each op's closures carry the op (upvalue 1) and the tensor metatable (upvalue 2). */
static const nn_op *upvalue_op(lua_State *L) {
  return lua_touserdata(L, lua_upvalueindex(1));
}

static void push_result(lua_State *L, nn_tensor *t) {
  lnn_push_mt(L, t, lua_upvalueindex(2));
}

/* The bytes of x's elements, or 0 for NULL (a number operand). */
static size_t nbytes(const nn_tensor *x) {
  return x ? (size_t)nn_numel(x) * nn_dtype_size(x->dtype) : 0;
}

static int l_unary(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  lnn_gc_before(L, nbytes(x), x, NULL);
  push_result(L, nn_call(upvalue_op(L), &x, NULL));
  return 1;
}

static int l_unary_(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  if (nn_call_into(upvalue_op(L), x, &x, NULL) < 0) return lnn_error(L, NULL);
  lua_settop(L, 1);
  return 1;
}

/* The operands at arg and arg + 1 (ta and tb, or NULL where a number is) as tensors, new
   references: a number takes the other operand's dtype. The types are checked before a
   scalar is made, so that an error leaks nothing. */
static void operands(lua_State *L, int arg, nn_tensor *ta, nn_tensor *tb, nn_tensor **a,
                     nn_tensor **b) {
  if (!ta && lua_type(L, arg) != LUA_TNUMBER) lnn_argerror(L, arg, "a tensor or a number");
  if (!tb && lua_type(L, arg + 1) != LUA_TNUMBER) lnn_argerror(L, arg + 1, "a tensor or a number");
  *a = lnn_totensor(L, arg, tb);
  *b = lnn_totensor(L, arg + 1, ta ? ta : *a);
}

/* a op b where one of them is a number */
static nn_tensor *with_scalar(lua_State *L, const nn_op *op, nn_tensor *ta, nn_tensor *tb) {
  nn_tensor *a, *b;
  operands(L, 1, ta, tb, &a, &b);
  nn_tensor *r = nn_call(op, (nn_tensor *[]){a, b}, NULL);
  nn_release(a);
  nn_release(b);
  return r;
}

/* The hot path of `a + b`: two tensors go straight to the op. */
static int l_binary(lua_State *L) {
  nn_tensor *ta = lnn_test(L, 1), *tb = lnn_test(L, 2);
  const nn_op *op = upvalue_op(L);
  size_t na = nbytes(ta), nb = nbytes(tb);
  lnn_gc_before(L, na > nb ? na : nb, ta, tb);
  if (ta && tb)
    push_result(L, nn_call(op, (nn_tensor *[]){ta, tb}, NULL));
  else
    push_result(L, with_scalar(L, op, ta, tb));
  return 1;
}

/* PyTorch's rule for in-place results: a float result never goes into an integer tensor
   (x:mul_(0.5) on i64 would silently give zeros). */
static int l_binary_(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1), *y = lnn_totensor(L, 2, x);
  if (nn_dtype_is_float(y->dtype) && !nn_dtype_is_float(x->dtype)) {
    nn_dtype r = y->dtype;
    nn_release(y);
    return lnn_errorf(L, "the result is %s, which cannot be stored in place in a %s tensor",
                      nn_dtype_name(r), nn_dtype_name(x->dtype));
  }
  int rc = nn_call_into(upvalue_op(L), x, (nn_tensor *[]){x, y}, NULL);
  nn_release(y);
  if (rc < 0) return lnn_error(L, NULL);
  lua_settop(L, 1);
  return 1;
}

/* ---- clamp and where ---- */

static nn_attr clamp_bounds(lua_State *L, const nn_tensor *x) {
  if (lua_isnoneornil(L, 2) && lua_isnoneornil(L, 3))
    lnn_errorf(L, "needs a lower bound, an upper bound or both");
  double lo = lnn_optnumber(L, 2, -INFINITY), hi = lnn_optnumber(L, 3, INFINITY);
  if (lo > hi) lnn_errorf(L, "lower bound %g is above upper bound %g", lo, hi);
  return nn_clamp_bounds(x->dtype, lo, hi);
}

static int l_clamp(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  nn_attr a = clamp_bounds(L, x);
  lnn_push(L, nn_call(&nn_op_clamp, &x, &a));
  return 1;
}

static int l_clamp_(lua_State *L) {
  nn_tensor *x = lnn_check(L, 1);
  nn_attr a = clamp_bounds(L, x);
  if (nn_call_into(&nn_op_clamp, x, &x, &a) < 0) return lnn_error(L, NULL);
  lua_settop(L, 1);
  return 1;
}

static int l_where(lua_State *L) {
  nn_tensor *mask = lnn_check(L, 1);
  nn_tensor *a, *b;
  operands(L, 2, lnn_test(L, 2), lnn_test(L, 3), &a, &b);
  nn_tensor *r = nn_where(mask, a, b);
  nn_release(a);
  nn_release(b);
  lnn_push(L, r);
  return 1;
}

/* ---- the tables ---- */

typedef struct op_doc {
  const char *name; /* the op's name in the core's table */
  const char *sig, *doc;
  const char *meta; /* the metamethod it also is, or NULL */
} op_doc;

static const op_doc unary_docs[] = {
    {"neg", "x:neg() -> tensor", "-x elementwise (also the unary minus)", "__unm"},
    {"exp", "x:exp() -> tensor", "e^x elementwise.", NULL},
    {"log", "x:log() -> tensor", "The natural logarithm, elementwise.", NULL},
    {"log1p", "x:log1p() -> tensor", "log(1 + x), accurate for small x.", NULL},
    {"sqrt", "x:sqrt() -> tensor", "The square root, elementwise.", NULL},
    {"rsqrt", "x:rsqrt() -> tensor", "1 / sqrt(x), elementwise.", NULL},
    {"abs", "x:abs() -> tensor", "|x| elementwise.", NULL},
    {"sign", "x:sign() -> tensor", "-1, 0 or 1 by the sign of each element.", NULL},
    {"floor", "x:floor() -> tensor", "Rounds down, elementwise.", NULL},
    {"ceil", "x:ceil() -> tensor", "Rounds up, elementwise.", NULL},
    {"sin", "x:sin() -> tensor", "The sine, elementwise.", NULL},
    {"cos", "x:cos() -> tensor", "The cosine, elementwise.", NULL},
    {"tanh", "x:tanh() -> tensor", "The hyperbolic tangent, elementwise.", NULL},
    {"sigmoid", "x:sigmoid() -> tensor", "1 / (1 + e^-x), elementwise.", NULL},
    {"relu", "x:relu() -> tensor", "max(x, 0), elementwise.", NULL},
    {NULL, NULL, NULL, NULL}};

static const op_doc binary_docs[] = {
    {"add", "x:add(y) -> tensor", "x + y with broadcasting; y may be a number.", "__add"},
    {"sub", "x:sub(y) -> tensor", "x - y with broadcasting; y may be a number.", "__sub"},
    {"mul", "x:mul(y) -> tensor", "x * y elementwise with broadcasting; y may be a number.",
     "__mul"},
    {"div", "x:div(y) -> tensor", "x / y (true division: integers give f32); y may be a number.",
     "__div"},
    {"pow", "x:pow(y) -> tensor", "x ^ y elementwise; y may be a number.", "__pow"},
    {"remainder", "x:remainder(y) -> tensor",
     "x - floor(x / y) * y elementwise, with the sign of y (Lua's x % y, PyTorch's remainder); "
     "an integer y must not be 0.",
     "__mod"},
    {"maximum", "x:maximum(y) -> tensor", "The larger of x and y, elementwise (nan wins).", NULL},
    {"minimum", "x:minimum(y) -> tensor", "The smaller of x and y, elementwise (nan wins).", NULL},
    {NULL, NULL, NULL, NULL}};

static const op_doc compare_docs[] = {
    {"eq", "x:eq(y) -> mask", "1 where x == y, else 0 (a u8 mask); y may be a number.", NULL},
    {"ne", "x:ne(y) -> mask", "1 where x ~= y, else 0 (a u8 mask).", NULL},
    {"lt", "x:lt(y) -> mask", "1 where x < y, else 0 (a u8 mask).", NULL},
    {"le", "x:le(y) -> mask", "1 where x <= y, else 0 (a u8 mask).", NULL},
    {"gt", "x:gt(y) -> mask", "1 where x > y, else 0 (a u8 mask).", NULL},
    {"ge", "x:ge(y) -> mask", "1 where x >= y, else 0 (a u8 mask).", NULL},
    {NULL, NULL, NULL, NULL}};

static const lnn_reg clamps[] = {
    {"clamp", l_clamp, "x:clamp(lo, hi) -> tensor",
     "Each element limited to [lo, hi]; nil leaves that side unbounded."},
    {NULL, NULL, NULL, NULL}};

static const lnn_reg clamps_[] = {{"clamp_", l_clamp_, "x:clamp_(lo, hi) -> x", "clamp in place."},
                                  {NULL, NULL, NULL, NULL}};

static const lnn_reg wheres[] = {
    {"where", l_where, "nn.where(mask, a, b) -> tensor",
     "a where the u8 mask is non-zero, else b; all three broadcast; a and b may be numbers."},
    {NULL, NULL, NULL, NULL}};

/* Registers f over each op of docs (and, with in_place, the op_ form as a method). */
static void register_ops(lua_State *L, const char *topic, const op_doc *docs, lua_CFunction f,
                         lua_CFunction f_) {
  lua_getfield(L, LUA_REGISTRYINDEX, "nn.Tensor");
  int mt = lua_gettop(L);
  for (const op_doc *d = docs; d->name; d++) {
    const nn_op *op = nn_op_find(d->name);
    if (!op) luaL_error(L, "nn: op '%s' is missing from the core's table", d->name);
    lua_pushlightuserdata(L, (void *)op);
    lua_pushvalue(L, mt);
    lua_pushcclosure(L, f, 2);
    if (d->meta) {
      lua_pushvalue(L, -1);
      lua_setfield(L, mt, d->meta);
    }
    lnn_register_top(L, topic, LNN_BOTH, &(lnn_reg){d->name, NULL, d->sig, d->doc});
    if (!f_) continue;
    const char *name_ = lua_pushfstring(L, "%s_", d->name);
    const char *sig_ = lua_pushfstring(L, "x:%s_(%s) -> x", d->name, f == l_binary ? "y" : "");
    const char *doc_ = lua_pushfstring(L, "%s in place: x = x:%s(%s).", d->name, d->name,
                                       f == l_binary ? "y" : "");
    lua_pushlightuserdata(L, (void *)op);
    lua_pushvalue(L, mt);
    lua_pushcclosure(L, f_, 2);
    lnn_register_top(L, topic, LNN_METHOD, &(lnn_reg){name_, NULL, sig_, doc_});
    lua_pop(L, 3);
  }
  lua_pop(L, 1);
}

void lnn_open_math(lua_State *L) {
  register_ops(L, "Arithmetic", binary_docs, l_binary, l_binary_);
  register_ops(L, "Math", unary_docs, l_unary, l_unary_);
  lnn_register(L, "Math", LNN_BOTH, clamps);
  lnn_register(L, "Math", LNN_METHOD, clamps_);
  register_ops(L, "Comparison", compare_docs, l_binary, NULL);
  lnn_register(L, "Comparison", LNN_FUNC, wheres);
}
