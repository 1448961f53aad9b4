#pragma once
// Reads tensors of a golden safetensors file into plain vectors (torch-free tests).
#include "vlm/safetensors.h"

#include <QtTest>
#include <cstring>

namespace mpa::test {

template<typename T>
std::vector<T> goldenValues(const vlm::SafetensorsFile &file, const QString &name, std::vector<std::int64_t> *shape = nullptr)
{
    const vlm::TensorInfo *info = file.find(name);
    if (!info) {
        qWarning("golden tensor %s missing", qPrintable(name));
        return {};
    }
    if (shape)
        *shape = info->shape;
    std::vector<T> out(static_cast<std::size_t>(info->numel()));
    Q_ASSERT(vlm::dtypeSize(info->dtype) == sizeof(T));
    std::memcpy(out.data(), file.data(*info), out.size() * sizeof(T));
    return out;
}

} // namespace mpa::test
