#include "pipeline/training_data.h"

#include "store/sql_util.h"
#include "util/error.h"
#include "vlm/tokenizer.h"

#include <algorithm>
#include <random>

namespace mpa::pipeline {

TrainingExample buildTrainingExample(const TrainingSample &s, const vlm::Tokenizer &tok, const vlm::ImageProcessorConfig &images,
                                     std::int64_t imageTokenId)
{
    TrainingExample ex;
    const vlm::RgbImage img = vlm::loadRgbImage(s.imagePath);
    const vlm::PatchedPixels px = vlm::processImages({img}, images);
    ex.pixels = px.values;
    ex.rows = px.rows;
    ex.grid = px.grids.front();
    const QString prompt = QStringLiteral("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
                                          "<|vision_start|><|image_pad|><|vision_end|>\n")
                           + s.question + QStringLiteral("<|im_end|>\n<|im_start|>assistant\n");
    const QString response = s.answer + QStringLiteral("<|im_end|>\n");
    const std::int64_t pads = ex.rows / (images.mergeSize * images.mergeSize);
    for (std::int32_t id : tok.encode(prompt)) {
        if (id == imageTokenId) {
            ex.ids.insert(ex.ids.end(), static_cast<std::size_t>(pads), imageTokenId);
            ex.labels.insert(ex.labels.end(), static_cast<std::size_t>(pads), -100);
        } else {
            ex.ids.push_back(id);
            ex.labels.push_back(-100);
        }
    }
    for (std::int32_t id : tok.encode(response)) {
        ex.ids.push_back(id);
        ex.labels.push_back(id);
    }
    return ex;
}

QStringList trainingSelections()
{
    return {QStringLiteral("approved-gaps"), QStringLiteral("gaps"), QStringLiteral("all"), QStringLiteral("random")};
}

std::vector<TrainingSample> selectTrainingSamples(const store::Workspace &ws, const QString &selection, std::uint64_t seed)
{
    QString where;
    if (selection == QLatin1String("approved-gaps"))
        where = QStringLiteral("s.outcome = 'gap' AND s.verdict_stale = 0 AND s.review_state = 'approved'");
    else if (selection == QLatin1String("gaps"))
        // An edited pair's verdict judged the old text: stale gaps wait for a new identify run.
        where = QStringLiteral("s.outcome = 'gap' AND s.verdict_stale = 0 AND s.review_state != 'rejected'");
    else if (selection == QLatin1String("all") || selection == QLatin1String("random"))
        where = QStringLiteral("s.review_state != 'rejected'");
    else
        throw Error(QStringLiteral("unknown training selection \"%1\" (%2)").arg(selection, trainingSelections().join(QStringLiteral(", "))));
    QSqlDatabase db = ws.connection();
    QSqlQuery q = store::exec(db, QStringLiteral("SELECT s.id, i.path, COALESCE(s.reviewed_question, s.question), COALESCE(s.reviewed_answer, s.answer) "
                                                 "FROM samples s JOIN images i ON i.id = s.image_id WHERE s.parse_status = 'ok' AND i.status = 'ok' "
                                                 "AND %1 ORDER BY s.id").arg(where));
    std::vector<TrainingSample> out;
    while (q.next())
        out.push_back({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(), q.value(3).toString()});
    if (selection == QLatin1String("random")) {
        const qint64 gaps = store::scalar(db, QStringLiteral("SELECT count(*) FROM samples s JOIN images i ON i.id = s.image_id "
                                                             "WHERE s.outcome = 'gap' AND s.review_state != 'rejected' AND s.parse_status = 'ok' AND i.status = 'ok'")).toLongLong();
        std::mt19937_64 rng(seed);
        std::shuffle(out.begin(), out.end(), rng);
        out.resize(std::min<std::size_t>(out.size(), static_cast<std::size_t>(gaps)));
        std::sort(out.begin(), out.end(), [](const TrainingSample &a, const TrainingSample &b) { return a.sampleId < b.sampleId; });
    }
    return out;
}

} // namespace mpa::pipeline
