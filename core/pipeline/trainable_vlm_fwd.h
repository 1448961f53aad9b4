#pragma once
// Forward declarations of the trainer interface (pipeline/trainable_vlm.h, which includes
// libtorch) for torch-free headers that only pass it around.
namespace mpa::pipeline {
class TrainableVlm;
struct TrainableOptions;
} // namespace mpa::pipeline
