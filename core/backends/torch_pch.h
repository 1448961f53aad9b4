#pragma once
// Precompiled header for the few translation units that include libtorch (each costs
// 30-45 s to compile without it on the 2-core build machines).
#include <torch/torch.h>
