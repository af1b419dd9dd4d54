/*
** tests/c/test_gradcheck.c: every differentiable op in the op table against central finite
** differences in f64, in reverse mode (VJP) and forward mode (JVP). An op with a VJP that
** has no case here fails the test, so a new op cannot skip its check. An op that declares
** its VJP is not the derivative (vjp_rule) is checked in reverse mode only on the inputs it
** says are exact; its declared rule has a test of its own (test_feedback.c). The same cases
** check the f32 derivative code (test_gradcheck_f32.c), where an op with attributes needs
** two cases with different ones.
*/
#include <string.h>

#include "nn/autograd.h"
#include "tests/c/gradcheck.h"
#include "test.h"

#define NOATTR                                                                                     \
  { .ni = 0 }
#define S1(a)                                                                                      \
  { a }
#define S2(a, b)                                                                                   \
  { a, b }
#define S3(a, b, c)                                                                                \
  { a, b, c }
#define S4(a, b, c, d)                                                                             \
  { a, b, c, d }
#define S5(a, b, c, d, e)                                                                          \
  { a, b, c, d, e }
/* Inputs stay away from kinks (relu at 0, abs at 0, clamp bounds) by their ranges. */
const grad_case gc_cases[] = {
    {"neg", 1, {2}, {S2(3, 4)}, -2, 2, NOATTR, NULL},
    {"exp", 1, {2}, {S2(3, 4)}, -2, 2, NOATTR, NULL},
    {"log", 1, {2}, {S2(3, 4)}, 0.5, 3, NOATTR, NULL},
    {"log1p", 1, {2}, {S2(3, 4)}, -0.5, 3, NOATTR, NULL},
    {"sqrt", 1, {2}, {S2(3, 4)}, 0.5, 3, NOATTR, NULL},
    {"rsqrt", 1, {2}, {S2(3, 4)}, 0.5, 3, NOATTR, NULL},
    {"abs", 1, {2}, {S2(3, 4)}, 0.2, 2, NOATTR, NULL},
    {"sign", 1, {1}, {S1(5)}, 0.2, 2, NOATTR, NULL},
    {"floor", 1, {1}, {S1(5)}, 0.2, 0.8, NOATTR, NULL},
    {"ceil", 1, {1}, {S1(5)}, 0.2, 0.8, NOATTR, NULL},
    {"sin", 1, {2}, {S2(3, 4)}, -2, 2, NOATTR, NULL},
    {"cos", 1, {2}, {S2(3, 4)}, -2, 2, NOATTR, NULL},
    {"tanh", 1, {2}, {S2(3, 4)}, -2, 2, NOATTR, NULL},
    {"sigmoid", 1, {2}, {S2(3, 4)}, -3, 3, NOATTR, NULL},
    {"relu", 1, {2}, {S2(3, 4)}, 0.1, 2, NOATTR, NULL},
    {"clamp", 1, {2}, {S2(3, 4)}, -0.4, 0.4, {.f = {-0.5, 0.5}}, NULL},
    {"clamp", 1, {2}, {S2(3, 4)}, -2, 1, {.f = {-1.5, 0.2}}, NULL},
    {"add", 2, {2, 1}, {S2(3, 4), S1(4)}, -2, 2, NOATTR, NULL},
    {"sub", 2, {2, 2}, {S2(3, 1), S2(1, 4)}, -2, 2, NOATTR, NULL},
    {"mul", 2, {2, 2}, {S2(3, 4), S2(3, 4)}, -2, 2, NOATTR, NULL},
    {"div", 2, {2, 1}, {S2(3, 4), S1(4)}, 0.5, 2, NOATTR, NULL},
    {"pow", 2, {2, 2}, {S2(3, 4), S2(3, 4)}, 0.5, 2, NOATTR, NULL},
    {"remainder", 2, {2, 1}, {S2(3, 4), S1(4)}, 1.1, 1.9, NOATTR, NULL},
    {"maximum", 2, {2, 2}, {S2(3, 4), S2(3, 4)}, -2, 2, NOATTR, NULL},
    {"minimum", 2, {2, 2}, {S2(3, 4), S2(3, 4)}, -2, 2, NOATTR, NULL},
    {"where", 3, {2, 2, 1}, {S2(3, 4), S2(3, 4), S1(4)}, -2, 2, NOATTR, "011"},
    {"leaky_relu", 1, {2}, {S2(3, 4)}, -2, 2, {.f = {0.1}}, NULL},
    {"leaky_relu", 1, {2}, {S2(3, 4)}, -2, 2, {.f = {0.3}}, NULL},
    {"elu", 1, {2}, {S2(3, 4)}, -2, 2, {.f = {1.5}}, NULL},
    {"elu", 1, {2}, {S2(3, 4)}, -2, 2, {.f = {0.5}}, NULL},
    {"gelu", 1, {2}, {S2(3, 4)}, -3, 3, NOATTR, NULL},
    {"gelu_tanh", 1, {2}, {S2(3, 4)}, -3, 3, NOATTR, NULL},
    {"silu", 1, {2}, {S2(3, 4)}, -3, 3, {.f = {1.5}}, NULL},
    {"silu", 1, {2}, {S2(3, 4)}, -3, 3, {.f = {0.5}}, NULL},
    {"mish", 1, {2}, {S2(3, 4)}, -3, 3, NOATTR, NULL},
    {"softplus", 1, {2}, {S2(3, 4)}, -3, 3, {.f = {2, 4}}, NULL},
    {"softplus", 1, {2}, {S2(3, 4)}, -3, 3, {.f = {0.5, 1}}, NULL},
    {"hardtanh", 1, {2}, {S2(3, 4)}, -0.9, 0.9, {.f = {-1, 1}}, NULL},
    {"hardtanh", 1, {2}, {S2(3, 4)}, -2, 2.5, {.f = {-0.5, 2}}, NULL},
    {"relu2", 1, {2}, {S2(3, 4)}, -2, 2, NOATTR, NULL},
    {"smelu", 1, {2}, {S2(3, 4)}, -2, 2, {.f = {1}}, NULL},
    {"smelu", 1, {2}, {S2(3, 4)}, -2, 2, {.f = {0.5}}, NULL},
    {"snake", 1, {2}, {S2(3, 4)}, -2, 2, {.f = {1.5}}, NULL},
    {"snake", 1, {2}, {S2(3, 4)}, -2, 2, {.f = {0.7}}, NULL},
    {"shifted_relu", 1, {2}, {S2(3, 4)}, 0.6, 2, {.f = {0.5}}, NULL},
    {"shifted_relu", 1, {2}, {S2(3, 4)}, -2, 0.4, {.f = {0.5}}, NULL},
    {"shifted_relu", 1, {2}, {S2(3, 4)}, -2, 2, {.f = {-0.3}}, NULL},
    {"fatrelu", 1, {2}, {S2(3, 4)}, 0.6, 2, {.f = {0.5}}, NULL},
    {"fatrelu", 1, {2}, {S2(3, 4)}, -2, 0.4, {.f = {0.5}}, NULL},
    {"fatrelu", 1, {2}, {S2(3, 4)}, -2, 2, {.f = {1.2}}, NULL},
    {"relu_scaled", 1, {2}, {S2(3, 4)}, 0.1, 2, {.f = {0.25}}, NULL},
    {"relu_scaled", 1, {2}, {S2(3, 4)}, -2, 2, {.f = {3}}, NULL},
    /* learnable parameters: shared (one value) or per channel (dim 2), gradients reduced */
    {"prelu", 2, {2, 1}, {S2(3, 4), S1(1)}, -2, 2, NOATTR, NULL},
    {"prelu", 2, {3, 1}, {S3(2, 3, 4), S1(3)}, -2, 2, NOATTR, NULL},
    {"prelu", 2, {2, 1}, {S2(3, 4), S1(4)}, -2, 2, NOATTR, NULL},
    {"swish_beta", 2, {2, 1}, {S2(3, 4), S1(4)}, -2, 2, NOATTR, NULL},
    {"swish_beta", 2, {3, 1}, {S3(2, 3, 2), S1(1)}, -2, 2, NOATTR, NULL},
    {"snake_a", 2, {3, 1}, {S3(2, 3, 4), S1(3)}, 0.5, 2, NOATTR, NULL},
    {"snake_a", 2, {1, 1}, {S1(5), S1(1)}, 0.5, 2, NOATTR, NULL},
    {"sau", 3, {3, 1, 1}, {S3(2, 3, 2), S1(3), S1(3)}, 0.5, 2, NOATTR, NULL},
    {"sau", 3, {2, 1, 1}, {S2(3, 4), S1(1), S1(1)}, 0.5, 2, NOATTR, NULL},
    {"rational", 3, {2, 1, 1}, {S2(3, 4), S1(4), S1(3)}, -1, 1, NOATTR, NULL},
    {"rational", 3, {1, 1, 1}, {S1(6), S1(2), S1(1)}, -1, 1, NOATTR, NULL},
    /* gated units: attr {dim, gate} (glu, reglu, geglu, swiglu, bilinear) */
    {"gated", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {1, NN_GLU}, .ni = 2}, NULL},
    {"gated", 1, {3}, {S3(2, 4, 3)}, -2, 2, {.i = {1, NN_GLU}, .ni = 2}, NULL},
    {"gated", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {1, NN_REGLU}, .ni = 2}, NULL},
    {"gated", 1, {3}, {S3(2, 2, 3)}, -2, 2, {.i = {0, NN_GEGLU}, .ni = 2}, NULL},
    {"gated", 1, {2}, {S2(3, 6)}, -2, 2, {.i = {1, NN_SWIGLU}, .ni = 2}, NULL},
    {"gated", 1, {2}, {S2(4, 3)}, -2, 2, {.i = {0, NN_BILINEAR}, .ni = 2}, NULL},
    /* convolutions with 128 output positions or more (the layout with a GEMM per image, and
       whole images per thread), and second attribute sets for the entries without bias */
    {"conv2d",
     3,
     {4, 4, 1},
     {S4(2, 4, 12, 11), S4(4, 2, 3, 3), S1(4)},
     -2,
     2,
     {.i = {1, 1, 1, 1, 1, 1, 2}, .ni = 7},
     NULL},
    {"conv2d_nobias",
     2,
     {4, 4},
     {S4(3, 2, 16, 9), S4(3, 2, 3, 2)},
     -2,
     2,
     {.i = {1, 1, 2, 0, 2, 1, 1}, .ni = 7},
     NULL},
    {"conv1d_nobias",
     2,
     {3, 3},
     {S3(2, 2, 140), S3(3, 2, 3)},
     -2,
     2,
     {.i = {1, 2, 2, 1}, .ni = 4},
     NULL},
    /* stride 1, one group, 8 output channels: the direct path (nn/ops/conv_direct.c) where
       the CPU has AVX-512, which the f32 check then runs */
    {"conv2d",
     3,
     {4, 4, 1},
     {S4(2, 2, 5, 6), S4(8, 2, 3, 3), S1(8)},
     -2,
     2,
     {.i = {1, 1, 1, 2, 1, 2, 1}, .ni = 7},
     NULL},
    {"conv1d",
     3,
     {3, 3, 1},
     {S3(2, 3, 9), S3(9, 3, 3), S1(9)},
     -2,
     2,
     {.i = {1, 1, 1, 1}, .ni = 4},
     NULL},
    /* convolutions: attr conv2d {stride h, w, padding h, w, dilation h, w, groups}, conv1d
       {stride, padding, dilation, groups} */
    {"conv2d",
     3,
     {4, 4, 1},
     {S4(2, 3, 5, 5), S4(4, 3, 3, 3), S1(4)},
     -2,
     2,
     {.i = {1, 1, 0, 0, 1, 1, 1}, .ni = 7},
     NULL},
    {"conv2d",
     3,
     {4, 4, 1},
     {S4(2, 3, 6, 5), S4(4, 3, 3, 2), S1(4)},
     -2,
     2,
     {.i = {2, 2, 1, 1, 1, 1, 1}, .ni = 7},
     NULL},
    {"conv2d",
     3,
     {4, 4, 1},
     {S4(1, 2, 6, 6), S4(3, 2, 3, 3), S1(3)},
     -2,
     2,
     {.i = {1, 1, 2, 2, 2, 2, 1}, .ni = 7},
     NULL},
    {"conv2d",
     3,
     {4, 4, 1},
     {S4(2, 4, 5, 5), S4(6, 2, 3, 3), S1(6)},
     -2,
     2,
     {.i = {2, 1, 1, 0, 1, 1, 2}, .ni = 7},
     NULL},
    {"conv2d_nobias",
     2,
     {4, 4},
     {S4(2, 2, 4, 4), S4(3, 2, 2, 2)},
     -2,
     2,
     {.i = {1, 1, 1, 1, 1, 1, 1}, .ni = 7},
     NULL},
    {"conv2d_nobias",
     2,
     {4, 4},
     {S4(2, 2, 5, 4), S4(3, 2, 2, 2)},
     -2,
     2,
     {.i = {2, 1, 0, 1, 1, 1, 1}, .ni = 7},
     NULL},
    {"conv1d",
     3,
     {3, 3, 1},
     {S3(2, 3, 7), S3(4, 3, 3), S1(4)},
     -2,
     2,
     {.i = {2, 1, 1, 1}, .ni = 4},
     NULL},
    {"conv1d",
     3,
     {3, 3, 1},
     {S3(2, 3, 8), S3(6, 1, 3), S1(6)},
     -2,
     2,
     {.i = {1, 2, 2, 3}, .ni = 4},
     NULL},
    {"conv1d_nobias",
     2,
     {3, 3},
     {S3(2, 2, 6), S3(3, 2, 2)},
     -2,
     2,
     {.i = {1, 0, 1, 1}, .ni = 4},
     NULL},
    {"conv1d_nobias",
     2,
     {3, 3},
     {S3(2, 2, 7), S3(3, 2, 2)},
     -2,
     2,
     {.i = {2, 1, 2, 1}, .ni = 4},
     NULL},
    {"linear", 3, {2, 2, 1}, {S2(3, 4), S2(5, 4), S1(5)}, -2, 2, NOATTR, NULL},
    {"linear_nobias", 2, {2, 2}, {S2(3, 4), S2(5, 4)}, -2, 2, NOATTR, NULL},
    {"linear_fa", 4, {2, 2, 1, 2}, {S2(3, 4), S2(5, 4), S1(5), S2(5, 4)}, -2, 2, NOATTR, NULL},
    {"linear_fa_nobias", 3, {3, 2, 2}, {S3(2, 3, 4), S2(5, 4), S2(5, 4)}, -2, 2, NOATTR, NULL},
    {"linear_pfa",
     5,
     S5(2, 2, 1, 2, 2),
     {S2(3, 4), S2(5, 4), S1(5), S2(5, 6), S2(6, 4)},
     -2,
     2,
     NOATTR,
     NULL},
    {"linear_pfa_nobias",
     4,
     {2, 2, 2, 2},
     {S2(3, 4), S2(5, 4), S2(5, 6), S2(6, 4)},
     -2,
     2,
     NOATTR,
     NULL},
    {"softmax", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {1}}, NULL},
    {"softmax", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {0}}, NULL},
    {"log_softmax", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {0}}, NULL},
    {"log_softmax", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {1}}, NULL},
    {"layer_norm", 3, {2, 1, 1}, {S2(3, 4), S1(4), S1(4)}, -2, 2, {.f = {1e-5}}, NULL},
    {"layer_norm", 3, {2, 1, 1}, {S2(3, 4), S1(4), S1(4)}, -2, 2, {.f = {0.1}}, NULL},
    {"batch_norm", 3, {2, 1, 1}, {S2(5, 3), S1(3), S1(3)}, -2, 2, {.f = {1e-5}}, NULL},
    {"batch_norm", 3, {2, 1, 1}, {S2(5, 3), S1(3), S1(3)}, -2, 2, {.f = {0.5}}, NULL},
    {"embedding", 2, {2, 2}, {S2(2, 3), S2(4, 3)}, -2, 2, NOATTR, "01"},
    {"cross_entropy", 2, {2, 1}, {S2(4, 3), S1(4)}, -2, 2, {.i = {1, -100}, .f = {0.1}}, "10"},
    {"nll_loss", 2, {2, 1}, {S2(4, 3), S1(4)}, -2, 2, {.i = {2, -100}}, "10"},
    {"cross_entropy",
     3,
     {2, 1, 1},
     {S2(4, 3), S1(4), S1(3)},
     -2,
     2,
     {.i = {1, -100}, .f = {0.1}},
     "10c"},
    {"nll_loss", 3, {2, 1, 1}, {S2(4, 3), S1(4), S1(3)}, -2, 2, {.i = {0, -100}}, "10c"},
    {"bce_with_logits", 2, {2, 2}, {S2(3, 4), S2(3, 4)}, -2, 2, NOATTR, NULL},
    {"cross_entropy", 2, {2, 1}, {S2(4, 3), S1(4)}, -2, 2, {.i = {2, -100}}, "10"},
    /* linear scans: a, b (batch, time, features), h0; complex ones planar (2, ...) */
    {"linear_scan", 3, {3, 3, 2}, {S3(2, 4, 3), S3(2, 4, 3), S2(2, 3)}, -1.2, 1.2, NOATTR, NULL},
    {"linear_scan_complex",
     3,
     {4, 4, 3},
     {S4(2, 2, 3, 2), S4(2, 2, 3, 2), S3(2, 2, 2)},
     -0.9,
     0.9,
     NOATTR,
     NULL},
    {"mingru_scan", 2, {3, 2}, {S3(2, 4, 6), S2(2, 3)}, -2, 2, NOATTR, NULL},
    /* reductions: i[0] the dim (-1: all), i[1] keepdim */
    {"sum", 1, {3}, {S3(2, 3, 4)}, -2, 2, {.i = {1, 1}, .ni = 2}, NULL},
    {"sum", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {-1, 0}, .ni = 2}, NULL},
    {"prod", 1, {2}, {S2(3, 4)}, 0.5, 2, {.i = {0, 0}, .ni = 2}, NULL},
    {"prod", 1, {2}, {S2(2, 3)}, -2, 2, {.i = {-1, 0}, .ni = 2}, NULL},
    /* indexing and joining: i[0] is the dim */
    {"cat", 3, {2, 2, 2}, {S2(2, 3), S2(4, 3), S2(1, 3)}, -2, 2, {.i = {0}}, NULL},
    {"cat", 2, {2, 2}, {S2(3, 2), S2(3, 4)}, -2, 2, {.i = {1}}, NULL},
    {"stack", 3, {2, 2, 2}, {S2(3, 4), S2(3, 4), S2(3, 4)}, -2, 2, {.i = {1}}, NULL},
    {"stack", 2, {2, 2}, {S2(3, 4), S2(3, 4)}, -2, 2, {.i = {2}}, NULL},
    {"gather", 2, {2, 2}, {S2(3, 4), S2(2, 5)}, -2, 2, {.i = {1}}, "1i"},
    {"gather", 2, {2, 2}, {S2(3, 4), S2(5, 3)}, -2, 2, {.i = {0}}, "1i"},
    {"scatter_add", 3, {2, 2, 2}, {S2(3, 4), S2(2, 3), S2(2, 4)}, -2, 2, {.i = {0}}, "1i1"},
    {"scatter_add", 3, {2, 2, 2}, {S2(3, 4), S2(3, 2), S2(3, 4)}, -2, 2, {.i = {1}}, "1i1"},
    {"index_select", 2, {2, 1}, {S2(3, 4), S1(5)}, -2, 2, {.i = {0}}, "1i"},
    {"index_select", 2, {2, 1}, {S2(3, 4), S1(6)}, -2, 2, {.i = {1}}, "1i"},
    {"index_add", 3, {2, 1, 2}, {S2(3, 4), S1(5), S2(3, 5)}, -2, 2, {.i = {1}}, "1i1"},
    {"index_add", 3, {2, 1, 2}, {S2(3, 4), S1(5), S2(5, 4)}, -2, 2, {.i = {0}}, "1i1"},
    {"masked_fill", 2, {2, 2}, {S2(1, 4), S2(3, 4)}, -2, 2, {.f = {0.5}}, "10"},
    {"masked_fill", 2, {2, 2}, {S2(3, 4), S2(3, 4)}, -2, 2, {.f = {-2}}, "10"},
    /* products: PyTorch's ranks, 1-D operands and broadcast batches */
    {"matmul", 2, {2, 2}, {S2(3, 4), S2(4, 5)}, -2, 2, NOATTR, NULL},
    {"matmul", 2, {3, 2}, {S3(2, 3, 4), S2(4, 5)}, -2, 2, NOATTR, NULL},
    {"matmul", 2, {2, 3}, {S2(3, 4), S3(2, 4, 5)}, -2, 2, NOATTR, NULL},
    {"matmul", 2, {4, 3}, {S4(2, 1, 3, 4), S3(5, 4, 2)}, -2, 2, NOATTR, NULL},
    {"matmul", 2, {1, 1}, {S1(4), S1(4)}, -2, 2, NOATTR, NULL},
    {"matmul", 2, {1, 3}, {S1(4), S3(2, 4, 3)}, -2, 2, NOATTR, NULL},
    {"matmul", 2, {3, 1}, {S3(2, 3, 4), S1(4)}, -2, 2, NOATTR, NULL},
    {"mm", 2, {2, 2}, {S2(3, 4), S2(4, 2)}, -2, 2, NOATTR, NULL},
    {"bmm", 2, {3, 3}, {S3(2, 3, 4), S3(2, 4, 5)}, -2, 2, NOATTR, NULL},
    {"outer", 2, {1, 1}, {S1(3), S1(4)}, -2, 2, NOATTR, NULL},
    /* differentiable views and conversions */
    {"view", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {2, 6}, .ni = 2}, NULL},
    {"view", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {12}, .ni = 1}, NULL},
    {"reshape", 1, {3}, {S3(2, 3, 4)}, -2, 2, {.i = {4, 6}, .ni = 2}, NULL},
    {"reshape", 1, {3}, {S3(2, 3, 4)}, -2, 2, {.i = {2, 12}, .ni = 2}, NULL},
    {"flatten", 1, {3}, {S3(2, 3, 4)}, -2, 2, {.i = {1, 2}, .ni = 2}, NULL},
    {"flatten", 1, {3}, {S3(2, 3, 4)}, -2, 2, {.i = {0, 1}, .ni = 2}, NULL},
    {"squeeze", 1, {3}, {S3(3, 1, 4)}, -2, 2, {.i = {-1}, .ni = 1}, NULL},
    {"squeeze", 1, {3}, {S3(1, 3, 1)}, -2, 2, {.i = {2}, .ni = 1}, NULL},
    {"unsqueeze", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {1}, .ni = 1}, NULL},
    {"unsqueeze", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {2}, .ni = 1}, NULL},
    {"transpose", 1, {3}, {S3(2, 3, 4)}, -2, 2, {.i = {0, 2}, .ni = 2}, NULL},
    {"transpose", 1, {3}, {S3(2, 3, 4)}, -2, 2, {.i = {1, 2}, .ni = 2}, NULL},
    {"permute", 1, {3}, {S3(2, 3, 4)}, -2, 2, {.i = {2, 0, 1}, .ni = 3}, NULL},
    {"permute", 1, {3}, {S3(2, 3, 4)}, -2, 2, {.i = {1, 2, 0}, .ni = 3}, NULL},
    {"narrow", 1, {2}, {S2(5, 4)}, -2, 2, {.i = {0, 1, 3}, .ni = 3}, NULL},
    {"narrow", 1, {2}, {S2(5, 4)}, -2, 2, {.i = {1, 2, 2}, .ni = 3}, NULL},
    {"select", 1, {3}, {S3(2, 3, 4)}, -2, 2, {.i = {1, 2}, .ni = 2}, NULL},
    {"select", 1, {3}, {S3(2, 3, 4)}, -2, 2, {.i = {0, 1}, .ni = 2}, NULL},
    {"expand", 1, {2}, {S2(3, 1)}, -2, 2, {.i = {2, 3, 4}, .ni = 3}, NULL},
    {"expand", 1, {2}, {S2(3, 1)}, -2, 2, {.i = {3, 5}, .ni = 2}, NULL},
    {"contiguous", 1, {2}, {S2(3, 4)}, -2, 2, NOATTR, NULL},
    {"to", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {NN_F64}, .ni = 1}, NULL},
    {"clone", 1, {2}, {S2(3, 4)}, -2, 2, NOATTR, NULL},
    /* the first-hour ops: sort/topk attr {dim, descending, k}; cumsum/cumprod {dim, reverse} */
    {"sort", 1, {2}, {S2(3, 5)}, -2, 2, {.i = {1, 0, -1}, .ni = 3}, NULL},
    {"sort", 1, {3}, {S3(4, 2, 3)}, -2, 2, {.i = {0, 1, -1}, .ni = 3}, NULL},
    {"topk", 1, {2}, {S2(3, 5)}, -2, 2, {.i = {1, 1, 2}, .ni = 3}, NULL},
    {"topk", 1, {2}, {S2(4, 3)}, -2, 2, {.i = {0, 0, 3}, .ni = 3}, NULL},
    {"cumsum", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {1, 0}, .ni = 2}, NULL},
    {"cumsum", 1, {3}, {S3(3, 2, 2)}, -2, 2, {.i = {0, 1}, .ni = 2}, NULL},
    {"cumprod", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {1, 0}, .ni = 2}, NULL},
    {"cumprod", 1, {3}, {S3(4, 2, 2)}, 0.5, 1.5, {.i = {0, 0}, .ni = 2}, NULL},
    {"tril", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {0}, .ni = 1}, NULL},
    {"tril", 1, {3}, {S3(2, 3, 3)}, -2, 2, {.i = {-1}, .ni = 1}, NULL},
    {"triu", 1, {2}, {S2(4, 3)}, -2, 2, {.i = {1}, .ni = 1}, NULL},
    {"triu", 1, {2}, {S2(4, 3)}, -2, 2, {.i = {-1}, .ni = 1}, NULL},
    {"flip", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {1}, .ni = 1}, NULL},
    {"flip", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {0}, .ni = 1}, NULL},
    {"roll", 1, {2}, {S2(5, 3)}, -2, 2, {.i = {0, -7}, .ni = 2}, NULL},
    {"roll", 1, {2}, {S2(5, 3)}, -2, 2, {.i = {1, 2}, .ni = 2}, NULL},
    {"repeat_interleave", 2, {2, 1}, {S2(3, 4), S1(3)}, -2, 2, {.i = {0}, .ni = 1}, "1i"},
    {"repeat_interleave", 2, {2, 1}, {S2(3, 4), S1(4)}, -2, 2, {.i = {1}, .ni = 1}, "1i"},
    {"dot", 2, {1, 1}, {S1(5), S1(5)}, -2, 2, NOATTR, NULL},
    {"norm", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {1, 0}, .f = {2}, .ni = 2}, NULL},
    {"norm", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {-1, 0}, .f = {3}, .ni = 2}, NULL},
    {"norm", 1, {2}, {S2(3, 4)}, 0.1, 2, {.i = {0, 1}, .f = {1}, .ni = 2}, NULL},
    {"norm", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {1, 0}, .f = {INFINITY}, .ni = 2}, NULL},
    {"norm", 1, {2}, {S2(3, 4)}, -2, 2, {.i = {-1, 0}, .f = {-INFINITY}, .ni = 2}, NULL},
    /* pooling: x (N, C, H, W) or (C, H, W); attr {kh, kw, sh, sw, ph, pw, ceil_mode,
       count_include_pad}, adaptive {OH, OW} */
    {"max_pool2d", 1, {4}, {S4(2, 2, 4, 6)}, -2, 2, {.i = {2, 2, 2, 2, 0, 0, 0, 0}, .ni = 8}, NULL},
    {"max_pool2d", 1, {4}, {S4(1, 2, 5, 5)}, -2, 2, {.i = {2, 2, 2, 2, 0, 0, 0, 0}, .ni = 8}, NULL},
    {"max_pool2d", 1, {4}, {S4(1, 2, 5, 5)}, -2, 2, {.i = {3, 3, 1, 2, 1, 1, 0, 0}, .ni = 8}, NULL},
    {"max_pool2d", 1, {3}, {S3(2, 5, 6)}, -2, 2, {.i = {3, 2, 2, 2, 1, 0, 1, 0}, .ni = 8}, NULL},
    {"avg_pool2d", 1, {4}, {S4(2, 2, 4, 6)}, -2, 2, {.i = {2, 2, 2, 2, 0, 0, 0, 1}, .ni = 8}, NULL},
    {"avg_pool2d", 1, {4}, {S4(1, 2, 5, 5)}, -2, 2, {.i = {3, 3, 2, 2, 1, 1, 0, 1}, .ni = 8}, NULL},
    {"avg_pool2d", 1, {4}, {S4(2, 1, 5, 6)}, -2, 2, {.i = {2, 3, 2, 1, 1, 1, 1, 0}, .ni = 8}, NULL},
    {"adaptive_avg_pool2d", 1, {4}, {S4(2, 2, 5, 7)}, -2, 2, {.i = {3, 4}, .ni = 2}, NULL},
    {"adaptive_avg_pool2d", 1, {3}, {S3(2, 4, 3)}, -2, 2, {.i = {1, 1}, .ni = 2}, NULL},
    /* batch norm of (N, C, *): x, weight, bias; f[0] eps */
    {"batch_norm_nc", 3, {4, 1, 1}, {S4(3, 2, 2, 3), S1(2), S1(2)}, -2, 2, {.f = {1e-5}}, NULL},
    {"batch_norm_nc", 3, {3, 1, 1}, {S3(4, 3, 2), S1(3), S1(3)}, -2, 2, {.f = {0.1}}, NULL},
    /* fused recurrences, several outputs: x (B, T, I), h0 (, c0), W_ih, W_hh, b_ih, b_hh */
    {"rnn_tanh",
     6,
     {3, 2, 2, 2, 1, 1},
     {S3(2, 3, 3), S2(2, 2), S2(2, 3), S2(2, 2), S1(2), S1(2)},
     -1,
     1,
     NOATTR,
     NULL},
    {"rnn_relu",
     6,
     {3, 2, 2, 2, 1, 1},
     {S3(2, 3, 3), S2(2, 2), S2(2, 3), S2(2, 2), S1(2), S1(2)},
     -1,
     1,
     NOATTR,
     NULL},
    {"lstm",
     7,
     {3, 2, 2, 2, 2, 1, 1},
     {S3(2, 3, 3), S2(2, 2), S2(2, 2), S2(8, 3), S2(8, 2), S1(8), S1(8)},
     -1,
     1,
     NOATTR,
     NULL},
    {"gru",
     6,
     {3, 2, 2, 2, 1, 1},
     {S3(2, 3, 3), S2(2, 2), S2(6, 3), S2(6, 2), S1(6), S1(6)},
     -1,
     1,
     NOATTR,
     NULL},
};

const size_t gc_ncases = sizeof gc_cases / sizeof *gc_cases;

static uint64_t lcg = 12345;

nn_tensor *gc_random_tensor(int ndim, const int64_t *shape, double lo, double hi) {
  return test_random_f64(&lcg, ndim, shape, lo, hi);
}

static nn_tensor *random_indices(int ndim, const int64_t *shape, int64_t n) {
  nn_tensor *t = nn_empty(NN_I64, ndim, shape);
  int64_t *p = (int64_t *)nn_data(t);
  for (int64_t i = 0; i < nn_numel(t); i++) p[i] = (int64_t)test_uniform(&lcg, 0, (double)n) % n;
  return t;
}

/* Input k as the case says; a mask is a u8 comparison of values drawn as the others. */
nn_tensor *gc_make_input(const grad_case *c, int k) {
  if (c->differentiable && c->differentiable[k] == 'i')
    return random_indices(c->ndim[k], c->shape[k], c->shape[0][c->attr.i[0]]);
  if (c->differentiable && c->differentiable[k] == 'c')
    return gc_random_tensor(c->ndim[k], c->shape[k], 0.5, 2);
  nn_tensor *t = gc_random_tensor(c->ndim[k], c->shape[k], c->lo, c->hi);
  if (c->differentiable && c->differentiable[k] == '0') {
    nn_tensor *zero = nn_scalar(NN_F64, 0), *m = nn_gt(t, zero);
    nn_release(zero), nn_release(t);
    return m;
  }
  return t;
}

/* The op's outputs (op->nout of them, one for most ops) in y; 0 or -1. */
int gc_call(const nn_op *op, const grad_case *c, nn_tensor **in, nn_tensor **y) {
  return nn_call_multi(op, c->nin, in, &c->attr, nn_op_nout(op), y);
}

/* f(inputs) = sum over outputs k of sum(y_k * w_k), a random projection of every output:
   its gradient exercises every output element, of several outputs at once. Returns the
   scalar as a tensor (NULL on failure). */
nn_tensor *gc_projection(const nn_op *op, nn_tensor **y, nn_tensor **w) {
  nn_tensor *s = NULL;
  for (int k = 0; k < nn_op_nout(op); k++) {
    nn_tensor *yw = nn_mul(y[k], w[k]), *sk = nn_sum(yw, -1, false), *next = s ? nn_add(s, sk) : sk;
    if (s) nn_release(s), nn_release(sk);
    nn_release(yw);
    s = next;
  }
  return s;
}

double gc_weighted(const nn_op *op, const grad_case *c, nn_tensor **in, nn_tensor **w) {
  nn_tensor *y[NN_MAXOUT] = {0};
  if (gc_call(op, c, in, y) < 0) return NAN;
  nn_tensor *s = gc_projection(op, y, w);
  double v = nn_load(nn_data(s), s->dtype);
  nn_release(s);
  test_release_all(nn_op_nout(op), y);
  return v;
}

/* sum over outputs of <tangent_k, w_k> */
double gc_tangent_dot(const nn_op *op, nn_tensor **y, nn_tensor **w) {
  double d = 0;
  for (int k = 0; k < nn_op_nout(op); k++)
    if (y[k] && y[k]->tangent) d += test_dot(y[k]->tangent, w[k]);
  return d;
}

static void check_op(const nn_op *op, const grad_case *c, int *failures) {
  nn_tensor *in[8] = {0}, *y0[NN_MAXOUT] = {0}, *w[NN_MAXOUT] = {0};
  int nout = nn_op_nout(op);
  for (int k = 0; k < c->nin; k++) in[k] = gc_make_input(c, k);
  REQUIRE(gc_call(op, c, in, y0) == 0);
  for (int k = 0; k < nout; k++) w[k] = gc_random_tensor(y0[k]->ndim, y0[k]->shape, -1, 1);
  const double eps = 1e-6;
  for (int k = 0; k < c->nin; k++) {
    if (in[k]->dtype != NN_F64 || (c->differentiable && c->differentiable[k] == 'c')) continue;
    bool exact = !op->vjp_rule || (op->vjp_exact >> k & 1u);
    /* reverse mode */
    in[k]->requires_grad = true;
    nn_tensor *y[NN_MAXOUT] = {0}, *yt[NN_MAXOUT] = {0};
    REQUIRE(gc_call(op, c, in, y) == 0);
    nn_tensor *s = gc_projection(op, y, w);
    CHECK(nn_backward(s, NULL, false) == 0);
    nn_release(s);
    test_release_all(nout, y);
    nn_tensor *g = in[k]->grad;
    in[k]->requires_grad = false, in[k]->grad = NULL;
    /* forward mode along a random direction v: tangent of f must be <grad, v> */
    nn_tensor *v = gc_random_tensor(in[k]->ndim, in[k]->shape, -1, 1);
    in[k]->tangent = nn_retain(v);
    nn_fwd_enter();
    CHECK(gc_call(op, c, in, yt) == 0);
    nn_fwd_leave();
    nn_release(in[k]->tangent);
    in[k]->tangent = NULL;
    double jvp = gc_tangent_dot(op, yt, w), dot = 0;
    for (int64_t i = 0; i < nn_numel(in[k]); i++) {
      double *x = (double *)nn_data(in[k]) + i, keep = *x;
      *x = keep + eps;
      double up = gc_weighted(op, c, in, w);
      *x = keep - eps;
      double down = gc_weighted(op, c, in, w);
      *x = keep;
      double numeric = (up - down) / (2 * eps), analytic = g ? test_get(g, i) : 0;
      dot += numeric * test_get(v, i);
      if (exact && !test_grad_close(analytic, numeric)) {
        fprintf(stderr, "  %s: input %d %s element %lld: backward %g, finite differences %g\n",
                op->name, k + 1, nn_shape_str(in[k]), (long long)i + 1, analytic, numeric);
        ++*failures;
        break;
      }
    }
    if (!test_grad_close(jvp, dot)) {
      fprintf(stderr, "  %s: input %d %s: jvp %g, finite differences %g\n", op->name, k + 1,
              nn_shape_str(in[k]), jvp, dot);
      ++*failures;
    }
    nn_release(g), nn_release(v);
    test_release_all(nout, yt);
  }
  test_release_all(nout, y0), test_release_all(nout, w);
  for (int k = 0; k < c->nin; k++) nn_release(in[k]);
}

/* Each op is checked on every case that names it (several cover broadcasting, ranks...). */
TEST(gradcheck_every_op) {
  for (int k = 0; k < nn_nops; k++) {
    const nn_op *op = nn_ops[k];
    /* ops whose declared rule covers every input: tests/c/test_activation.c */
    if (!nn_op_differentiable(op) || (op->vjp_rule && !op->vjp_exact)) continue;
    int checked = 0;
    for (size_t j = 0; j < gc_ncases; j++)
      if (strcmp(gc_cases[j].op, op->name) == 0) check_op(op, &gc_cases[j], failures), checked++;
    if (!checked) {
      fprintf(stderr, "  %s is differentiable but has no gradient check case\n", op->name);
      ++*failures;
    }
  }
}

TEST(backward_accumulates_and_frees) {
  nn_tensor *x = gc_random_tensor(1, (int64_t[]){4}, -1, 1);
  x->requires_grad = true;
  nn_tensor *y = nn_mul(x, x), *s = nn_sum(y, -1, false);
  REQUIRE(s && s->grad_fn);
  CHECK(nn_backward(s, NULL, true) == 0);
  CHECK(nn_backward(s, NULL, false) == 0); /* retained: a second pass is fine */
  for (int i = 0; i < 4; i++) CHECK_NEAR(test_get(x->grad, i), 4 * test_get(x, i), 1e-12);
  CHECK(nn_backward(s, NULL, false) < 0 && strstr(nn_errmsg(), "freed"));
  CHECK(nn_backward(y, NULL, false) < 0 && strstr(nn_errmsg(), "single-element"));
  nn_release(y), nn_release(s), nn_release(x);
}

TEST(no_grad_and_inplace_guard) {
  nn_tensor *x = gc_random_tensor(1, (int64_t[]){3}, -1, 1);
  x->requires_grad = true;
  bool was = nn_set_grad_enabled(false);
  nn_tensor *y = nn_exp(x);
  CHECK(y && !y->grad_fn && !y->requires_grad);
  CHECK(nn_call_into(&nn_op_add, x, (nn_tensor *[]){x, y}, NULL) == 0);
  nn_set_grad_enabled(was);
  CHECK(nn_call_into(&nn_op_add, x, (nn_tensor *[]){x, y}, NULL) < 0);
  CHECK(strstr(nn_errmsg(), "in-place"));
  nn_release(y), nn_release(x);
}

TEST(long_chain_releases_without_recursion) {
  nn_tensor *x = gc_random_tensor(1, (int64_t[]){1}, -1, 1);
  x->requires_grad = true;
  nn_tensor *h = nn_retain(x);
  for (int i = 0; i < 200000; i++) {
    nn_tensor *next = nn_tanh(h);
    nn_release(h);
    h = next;
  }
  CHECK(nn_backward(h, NULL, false) == 0 && x->grad);
  nn_release(h), nn_release(x); /* a recursive release would overflow the stack here */
}
