#include "pipeline/training_stream.h"

#include "util/error.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

namespace mpa::pipeline {

std::int64_t countAnswerTokens(const TrainingExample &e)
{
    std::int64_t n = 0;
    for (std::size_t i = 1; i < e.labels.size(); ++i)
        n += e.labels[i] != -100 ? 1 : 0;
    return n;
}

namespace {
std::vector<std::size_t> epochOrder(std::size_t count, std::uint64_t seed, std::int64_t epoch)
{
    std::vector<std::size_t> order(count);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed * 1000003ull + static_cast<std::uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), rng);
    return order;
}
} // namespace

std::size_t TrainingStream::sampleIndexAt(std::int64_t position, std::size_t count, std::uint64_t seed)
{
    const std::int64_t epoch = position / static_cast<std::int64_t>(count);
    return epochOrder(count, seed, epoch)[static_cast<std::size_t>(position % static_cast<std::int64_t>(count))];
}

TrainingStream::TrainingStream(const std::vector<TrainingSample> &samples, const StreamLayout &layout, BuildFn build)
    : m_samples(samples)
    , m_layout(layout)
    , m_build(std::move(build))
{
    m_thread = std::thread([this] { load(); });
}

TrainingStream::~TrainingStream()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_changed.notify_all();
    m_thread.join();
}

void TrainingStream::load()
{
    try {
        const std::size_t n = m_samples.size();
        const std::int64_t streamLength = static_cast<std::int64_t>(n) * m_layout.epochs;
        std::int64_t cachedEpoch = -1;
        std::vector<std::size_t> order;
        for (std::int64_t step = m_layout.startStep; step < m_layout.totalSteps; ++step) {
            StepBatch batch;
            batch.step = step;
            for (int micro = 0; micro < m_layout.gradAccum; ++micro) {
                std::vector<TrainingExample> examples;
                for (int b = 0; b < m_layout.batchSize; ++b) {
                    const std::int64_t position = (step * m_layout.gradAccum + micro) * m_layout.batchSize + b;
                    if (position >= streamLength)
                        break;
                    const std::int64_t epoch = position / static_cast<std::int64_t>(n);
                    if (epoch != cachedEpoch) {
                        order = epochOrder(n, m_layout.seed, epoch);
                        cachedEpoch = epoch;
                    }
                    examples.push_back(m_build(m_samples[order[static_cast<std::size_t>(position % static_cast<std::int64_t>(n))]]));
                    batch.answerTokens += countAnswerTokens(examples.back());
                }
                if (examples.empty())
                    break;
                batch.micro.push_back(std::move(examples));
            }
            std::unique_lock lock(m_mutex);
            m_changed.wait(lock, [this] { return m_stop || m_ready.size() < static_cast<std::size_t>(kStepsAhead); });
            if (m_stop)
                return;
            m_ready.push_back(std::move(batch));
            m_changed.notify_all();
        }
    } catch (...) {
        std::lock_guard lock(m_mutex);
        m_error = std::current_exception();
    }
    std::lock_guard lock(m_mutex);
    m_done = true;
    m_changed.notify_all();
}

StepBatch TrainingStream::next()
{
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [this] { return !m_ready.empty() || m_done; });
    m_waitSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (m_ready.empty()) {
        if (m_error)
            std::rethrow_exception(m_error);
        throw Error(QStringLiteral("the training data stream ended early"));
    }
    StepBatch b = std::move(m_ready.front());
    m_ready.pop_front();
    m_changed.notify_all();
    return b;
}

} // namespace mpa::pipeline
