#pragma once
// The Parity Leveler's data stream: a loader thread reads, decodes, resizes and tokenizes the
// micro-batches of the next optimizer steps while the current one trains, into a bounded queue
// (kStepsAhead steps), in the seeded order, so a resumed run sees exactly the same stream.
// Nothing is cached across steps: peak memory is a few steps' worth of examples, whatever the
// number of training samples (the old per-sample cache grew to 9.6 MB per image at MPA's budget).
#include "pipeline/training_data.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mpa::pipeline {

struct StreamLayout
{
    std::int64_t startStep = 0;
    std::int64_t totalSteps = 0;
    int gradAccum = 1;
    int batchSize = 1;
    int epochs = 1;
    std::uint64_t seed = 0;
};

// One optimizer step's micro-batches, and how many answer tokens they hold together (the
// loss is normalised by that, as transformers does with num_items_in_batch).
struct StepBatch
{
    std::int64_t step = 0;
    std::vector<std::vector<TrainingExample>> micro;
    std::int64_t answerTokens = 0;
};

// Answer tokens the causal-LM loss counts in an example (labels after the one-token shift).
std::int64_t countAnswerTokens(const TrainingExample &e);

class TrainingStream
{
public:
    static constexpr int kStepsAhead = 2;
    using BuildFn = std::function<TrainingExample(const TrainingSample &)>;

    TrainingStream(const std::vector<TrainingSample> &samples, const StreamLayout &layout, BuildFn build);
    ~TrainingStream(); // stops the loader and joins it
    TrainingStream(const TrainingStream &) = delete;
    TrainingStream &operator=(const TrainingStream &) = delete;

    // The next step's batch (waits for the loader); rethrows what the loader failed with.
    StepBatch next();
    // Seconds the training thread spent waiting in next().
    double waitSeconds() const { return m_waitSeconds; }

    // The sample at stream position `position`: each epoch is a permutation fixed by the seed.
    static std::size_t sampleIndexAt(std::int64_t position, std::size_t count, std::uint64_t seed);

private:
    void load();
    const std::vector<TrainingSample> &m_samples;
    StreamLayout m_layout;
    BuildFn m_build;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<StepBatch> m_ready;
    std::exception_ptr m_error;
    bool m_stop = false;
    bool m_done = false;
    double m_waitSeconds = 0;
    std::thread m_thread;
};

} // namespace mpa::pipeline
