#pragma once
// Activation (gradient) checkpointing for one block of a network: the forward runs without
// recording a graph (its intermediate activations are freed at once) and keeps only the
// block's input; the backward runs the block again with the graph on and back-propagates
// through it, which accumulates the block's parameter gradients and returns the input's.
// This is torch.utils.checkpoint's reentrant variant. The random generator of the input's
// device is saved and restored around the recomputation, so dropout draws the same masks and
// the gradients equal those of the run without checkpointing. INTERNAL (torch).
#include <torch/torch.h>

#include <functional>

namespace mpa::vlm {

using BlockFn = std::function<torch::Tensor(const torch::Tensor &)>;

// The autograd node's name (what a graph walk finds for each checkpointed block).
inline constexpr const char *kCheckpointNodeName = "MpaCheckpointBackward";

// `block` must capture what it needs by value: it runs again during backward.
torch::Tensor checkpointed(const BlockFn &block, const torch::Tensor &input);

} // namespace mpa::vlm
