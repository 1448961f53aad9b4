#pragma once
// Fused gated activations for bfloat16 and row softmax on CPU: libtorch 1.13's bf16 silu and sigmoid run at
// 2-3 ns per element on the 2-core build machine (silu(gate) * up of one 299-token prefill
// layer of Qwen2-VL-2B: 7 ms, as long as its three MLP GEMMs on AMX). These compute in float32
// from the bf16 inputs (exp by a degree-6 polynomial, < 2 float32 ulp), and round once to bf16
// (nearest even): at most one bf16 ulp from the reference, which rounds after each op.
#include <cstdint>

namespace mpa::vlm::kernels {

// out[i] = silu(gate[i]) * up[i] (SwiGLU); out may alias gate.
void bf16SwiGlu(const std::uint16_t *gate, const std::uint16_t *up, std::uint16_t *out, std::int64_t n);
// out[i] = x[i] * sigmoid(1.702 x[i]) (QuickGELU); out may alias x.
void bf16QuickGelu(const std::uint16_t *x, std::uint16_t *out, std::int64_t n);

// Softmax of each of `rows` contiguous rows of `cols` values, in place (attention scores): max,
// exp and sum in float32, then one rounding per value for bfloat16. libtorch 1.13 ran it at
// about 2 G elements/s for bfloat16 (0.8-2.4 float32) on 2 cores, 130 ms of the 665 ms of a
// 4-block bf16 vision tower at 2,024 patches.
void bf16SoftmaxRows(std::uint16_t *x, std::int64_t rows, std::int64_t cols);
void f32SoftmaxRows(float *x, std::int64_t rows, std::int64_t cols);

// The vision towers' attention input in one pass: from the [n][3][heads][hd] qkv projection
// (bfloat16 or float32) and float32 cos/sin [n][hd] (equal halves), writes out[3][heads][n][hd]:
// q rotated and times qScale, k rotated, v copied. Rotation in float32, as the reference's
// apply_rotary_pos_emb_vision, rounded once. Replaces the rotary's float32 temporaries and
// the three head-major copies the attention made (about 10 ms per bf16 block at 2,024 patches).
void bf16RotaryToHeadMajor(const std::uint16_t *qkv, const float *cos, const float *sin, std::uint16_t *out, std::int64_t n, std::int64_t heads,
                           std::int64_t hd, float qScale);
void f32RotaryToHeadMajor(const float *qkv, const float *cos, const float *sin, float *out, std::int64_t n, std::int64_t heads, std::int64_t hd,
                          float qScale);

} // namespace mpa::vlm::kernels
