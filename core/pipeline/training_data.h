#pragma once
// Parity Leveler training examples: the chat-template formatting of Qwen2-VL-Finetune /
// LLaMA-Factory, with the loss on the answer only. For a sample (image, question, answer):
//   prompt   <|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n
//            <|vision_start|><|image_pad|>xN<|vision_end|>\n{question}<|im_end|>\n<|im_start|>assistant\n
//   response {answer}<|im_end|>\n
// labels = -100 over the prompt, the response ids over the response (so <|im_end|> and the
// trailing newline are trained, as in the reference). The "\n" after the image markers is the
// one MPA's LLaVA records carry ("<image>\n<question>").
#include "store/workspace.h"
#include "vlm/image_processor.h"

#include <QString>
#include <array>
#include <cstdint>
#include <vector>

namespace mpa::vlm {
class Tokenizer;
}

namespace mpa::pipeline {

struct TrainingSample
{
    qint64 sampleId = 0;
    QString imagePath;
    QString question;
    QString answer;
};

struct TrainingExample
{
    std::vector<std::int64_t> ids;
    std::vector<std::int64_t> labels;
    std::vector<float> pixels; // rows x rowSize
    std::array<std::int64_t, 3> grid{0, 0, 0};
    std::int64_t rows = 0;
};

TrainingExample buildTrainingExample(const TrainingSample &sample, const vlm::Tokenizer &tokenizer,
                                     const vlm::ImageProcessorConfig &images, std::int64_t imageTokenId);

// Which samples a run trains on: approved-gaps (MPA with a person in the loop, the default),
// gaps (every gap not rejected, the paper's automatic setting), all (every parsed pseudo pair),
// random (a random subset of the parsed pairs as large as the gap set, the paper's control).
QStringList trainingSelections();
std::vector<TrainingSample> selectTrainingSamples(const store::Workspace &ws, const QString &selection, std::uint64_t seed);

} // namespace mpa::pipeline
