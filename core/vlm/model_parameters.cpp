#include "vlm/model_parameters.h"

#include "util/error.h"
#include "vlm/qwen2vl/qwen2vl_model.h"
#include "vlm/safetensors.h"
#include "vlm/tensor_ops.h"

#include <QDir>
#include <cmath>

namespace mpa::vlm {

ParameterMap loadParameters(const WeightReport &report, const Checkpoint &checkpoint, torch::Device device, torch::ScalarType dtype,
                            WeightMemory memory)
{
    if (!report.ok())
        throw Error(QStringLiteral("%1: the weights do not match the configuration: %2").arg(checkpoint.files().value(0), report.summary()));
    ParameterMap m;
    for (const auto &[name, file] : report.stored) {
        if (memory == WeightMemory::MapWhenPossible && device.is_cpu()) {
            if (auto mapped = mappedTensorFromCheckpoint(checkpoint, file, dtype); mapped.defined()) {
                m[name] = mapped;
                continue;
            }
        }
        m[name] = tensorFromCheckpoint(checkpoint, file).to(device, dtype);
    }
    return m;
}

ParameterMap randomParameters(const std::map<std::string, std::vector<std::int64_t>> &shapes, torch::Device device, torch::ScalarType dtype,
                              std::uint64_t seed)
{
    torch::manual_seed(seed);
    ParameterMap m;
    for (const auto &[name, shape] : shapes) {
        torch::Tensor t;
        const bool norm = name.find("norm") != std::string::npos || name.find("ln_q") != std::string::npos;
        if (norm && name.find(".weight") != std::string::npos)
            t = torch::ones(shape);
        else if (name.find(".bias") != std::string::npos)
            t = torch::zeros(shape);
        else {
            std::int64_t fanIn = 1;
            for (std::size_t i = 1; i < shape.size(); ++i)
                fanIn *= shape[i];
            t = torch::randn(shape) / std::sqrt(static_cast<double>(shape.size() == 1 ? shape[0] : fanIn));
        }
        m[name] = t.to(device, dtype);
    }
    return m;
}

void saveParameters(const ParameterMap &parameters, const QString &dir)
{
    std::vector<torch::Tensor> keep;
    std::vector<TensorToWrite> out;
    for (const auto &[name, t] : parameters) {
        auto c = t.detach().to(torch::kCPU).contiguous();
        keep.push_back(c);
        const DType d = c.scalar_type() == torch::kBFloat16 ? DType::BF16 : c.scalar_type() == torch::kFloat16 ? DType::F16 : DType::F32;
        out.push_back({QString::fromStdString(name), d, c.sizes().vec(), c.data_ptr()});
    }
    writeSafetensors(QDir(dir).filePath(QStringLiteral("model.safetensors")), out, {{QStringLiteral("format"), QStringLiteral("pt")}});
}

const torch::Tensor &parameterOrTiedHead(const ParameterMap &parameters, const std::string &name, const std::string &embedding)
{
    auto it = parameters.find(name);
    if (it == parameters.end() && name == "lm_head.weight")
        it = parameters.find(embedding);
    if (it == parameters.end())
        throw Error(QStringLiteral("internal: parameter %1 missing").arg(QString::fromStdString(name)));
    return it->second;
}

QString torchDtypeLabel(torch::ScalarType t)
{
    return t == torch::kBFloat16 ? QStringLiteral("bfloat16") : t == torch::kFloat16 ? QStringLiteral("float16") : QStringLiteral("float32");
}

torch::Tensor linearWithLora(const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b, const LoraMap &lora, const std::string &weight,
                             bool training)
{
    auto y = ops::dense(x, w, b);
    if (lora.empty())
        return y;
    auto it = lora.find(weight);
    if (it == lora.end())
        return y;
    const LoraAdapter &l = it->second;
    auto in = (training && l.dropout > 0) ? torch::dropout(x, l.dropout, true) : x;
    return y + l.scale * ops::dense(ops::dense(in, l.a), l.b);
}

void mergeLora(ParameterMap &parameters, LoraMap &lora)
{
    torch::NoGradGuard noGrad;
    for (auto &[name, l] : lora) {
        auto &w = parameters.at(name);
        w.add_((l.scale * torch::matmul(l.b.to(torch::kFloat32), l.a.to(torch::kFloat32))).to(w.scalar_type()));
    }
    lora.clear();
}

torch::Tensor causalPaddingMask(const torch::Tensor &attentionMask, std::int64_t queryLen, std::int64_t pastLen, torch::ScalarType dtype,
                                torch::Device device)
{
    const std::int64_t K = pastLen + queryLen;
    const double lowest = dtype == torch::kFloat32 ? std::numeric_limits<float>::lowest() : (dtype == torch::kBFloat16 ? -3.3895313892515355e38 : -65504.0);
    auto opts = torch::TensorOptions().device(device);
    auto q = torch::arange(pastLen, K, opts.dtype(torch::kInt64)).unsqueeze(1);
    auto k = torch::arange(0, K, opts.dtype(torch::kInt64)).unsqueeze(0);
    auto allowed = (k <= q).unsqueeze(0).unsqueeze(0); // [1, 1, Q, K]
    allowed = allowed & attentionMask.to(device).narrow(1, 0, K).to(torch::kBool).unsqueeze(1).unsqueeze(1);
    return torch::zeros(allowed.sizes(), opts.dtype(dtype)).masked_fill(allowed.logical_not(), lowest);
}

} // namespace mpa::vlm
