// Qwen2.5-VL's vision tower (Qwen2_5_VisionTransformerPretrainedModel, transformers v4.49.0):
// the patch rows are permuted into attention windows before block 0; every block is RMSNorm +
// attention + RMSNorm + SwiGLU MLP with bias, attending inside windows except the
// fullatt_block_indexes blocks, which attend over the whole image (or temporal slice); the
// merger (RMSNorm, Linear, GELU, Linear to out_hidden_size) runs in window order and the rows
// are put back in raster merge-group order at the end.
#include "vlm/activation_checkpoint.h"
#include "vlm/qwen25vl/qwen25vl_windows.h"
#include "vlm/qwen2vl/qwen2vl_model.h"
#include "vlm/tensor_ops.h"

#include <algorithm>

namespace mpa::vlm {

torch::Tensor Qwen2VLModel::encodeWindowedVision(const VisionInput &input, const torch::Tensor &patches, const torch::Tensor &angles,
                                                 VisionTrace *trace) const
{
    const auto &v = m_config.vision;
    const std::int64_t unit = static_cast<std::int64_t>(v.spatialMergeSize) * v.spatialMergeSize;
    const VisionWindows windows = visionWindows(input.grids, v);
    const auto tokens = static_cast<std::int64_t>(windows.order.size());
    auto order = torch::tensor(windows.order, torch::kInt64);
    // Patch rows follow their merged token: token i owns rows i*unit .. i*unit+unit-1.
    auto rowOrder = (order.unsqueeze(1) * unit + torch::arange(unit, torch::kInt64).unsqueeze(0)).reshape({-1});
    const auto rowIndex = rowOrder.to(m_device);
    auto x = patches.index_select(0, rowIndex);
    auto emb = angles.index_select(0, rowOrder);
    emb = torch::cat({emb, emb}, 1).to(m_device);
    const auto cos = emb.cos().unsqueeze(1), sin = emb.sin().unsqueeze(1); // [n, 1, hd] float32
    for (int b = 0; b < v.depth; ++b) {
        const bool full = std::find(v.fullAttentionBlocks.begin(), v.fullAttentionBlocks.end(), b) != v.fullAttentionBlocks.end();
        const std::vector<std::int64_t> &segments = full ? windows.slicePatches : windows.windowPatches;
        auto block = [this, b, cos, sin, segments](const torch::Tensor &in) { return windowedVisionBlock(b, in, cos, sin, segments); };
        x = checkpointing() ? checkpointed(block, x) : block(x);
        if (trace)
            trace->blockOutputs.push_back(x);
    }
    auto y = ops::rmsNorm(x, p("visual.merger.ln_q.weight"), 1e-6).reshape({tokens, -1});
    y = torch::gelu(proj(y, "visual.merger.mlp.0.weight", "visual.merger.mlp.0.bias")); // exact (erf) GELU
    y = proj(y, "visual.merger.mlp.2.weight", "visual.merger.mlp.2.bias");
    if (trace)
        trace->mergerOutput = y;
    return y.index_select(0, torch::argsort(order).to(m_device));
}

torch::Tensor Qwen2VLModel::windowedVisionBlock(int b, torch::Tensor x, const torch::Tensor &cos, const torch::Tensor &sin,
                                                const std::vector<std::int64_t> &segments) const
{
    const auto &v = m_config.vision;
    const std::int64_t E = v.embedDim, heads = v.numHeads, hd = E / heads, n = x.size(0);
    const std::string pre = "visual.blocks." + std::to_string(b) + ".";
    auto h = ops::rmsNorm(x, p(pre + "norm1.weight"), 1e-6);
    auto qkv = proj(h, pre + "attn.qkv.weight", pre + "attn.qkv.bias").view({n, 3, heads, hd});
    // float32 rotary, as the reference (apply_rotary_pos_emb_vision)
    x = ops::addResidual(proj(ops::rotaryVisionAttention(qkv, cos, sin, segments), pre + "attn.proj.weight",
                              pre + "attn.proj.bias"),
                         x);
    h = ops::rmsNorm(x, p(pre + "norm2.weight"), 1e-6);
    auto gate = proj(h, pre + "mlp.gate_proj.weight", pre + "mlp.gate_proj.bias");
    auto up = proj(h, pre + "mlp.up_proj.weight", pre + "mlp.up_proj.bias");
    return ops::addResidual(proj(ops::swiGlu(gate, up), pre + "mlp.down_proj.weight", pre + "mlp.down_proj.bias"), x);
}

} // namespace mpa::vlm
