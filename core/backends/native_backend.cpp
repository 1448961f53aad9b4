#include "backends/vlm_backend.h"

#include "backends/model_identity.h"

#include "util/error.h"
#include "vlm/vlm_model.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <cmath>

namespace mpa::backends {

namespace {

class NativeBackend final : public VlmBackend
{
public:
    NativeBackend(const QString &dir, const NativeBackendOptions &o)
        : m_name(modelDisplayName(dir))
        , m_batch(std::max(1, o.batchSize))
    {
        vlm::ModelLoadOptions load;
        load.device = o.device;
        load.dtype = o.dtype;
        load.minPixels = o.minPixels;
        load.maxPixels = o.maxPixels;
        m_model = vlm::VisionLanguageModel::load(dir, load);
    }

    QString name() const override { return m_name; }
    int preferredBatchSize() const override { return m_batch; }

    std::vector<VlmReply> answer(const std::vector<VlmQuery> &queries, const GenerationOptions &o, const std::function<bool()> &cancelled) override
    {
        std::vector<VlmReply> replies(queries.size());
        std::vector<vlm::VlmRequest> requests;
        std::vector<std::size_t> slots;
        for (std::size_t i = 0; i < queries.size(); ++i) {
            vlm::VlmRequest r;
            r.prompt = queries[i].prompt;
            try {
                if (!queries[i].imagePath.isEmpty())
                    r.images.push_back(vlm::loadRgbImage(queries[i].imagePath));
                if (!r.images.empty())
                    m_model->imageTokens(r.images.front().height, r.images.front().width);
            } catch (const Error &e) {
                replies[i].error = e.message(); // this item fails; the others are answered
                continue;
            }
            requests.push_back(std::move(r));
            slots.push_back(i);
        }
        if (requests.empty())
            return replies;
        vlm::GenerationConfig g = m_model->generationConfig();
        if (!o.useModelDefaults) {
            g.doSample = !o.greedy;
            g.temperature = o.temperature;
            g.topK = o.topK;
            g.topP = o.topP;
            g.repetitionPenalty = o.repetitionPenalty;
        }
        g.maxNewTokens = o.maxNewTokens;
        g.seed = o.seed;
        QElapsedTimer t;
        t.start();
        const auto answers = m_model->answer(requests, g, cancelled);
        const double perItem = t.nsecsElapsed() / 1e6 / static_cast<double>(requests.size());
        for (std::size_t k = 0; k < answers.size(); ++k) {
            VlmReply &r = replies[slots[k]];
            r.text = answers[k].text;
            double sum = 0;
            for (float lp : answers[k].logprobs)
                sum += lp;
            r.logprob = sum;
            r.latencyMs = perItem;
        }
        return replies;
    }

private:
    QString m_name;
    int m_batch;
    std::unique_ptr<vlm::VisionLanguageModel> m_model;
};

} // namespace

std::unique_ptr<VlmBackend> makeNativeBackend(const QString &modelDir, const NativeBackendOptions &options)
{
    return std::make_unique<NativeBackend>(modelDir, options);
}

} // namespace mpa::backends
