#pragma once
// Qwen2.5-VL's vision_config: class defaults of Qwen2_5_VLVisionConfig (real config.json files
// store only a few keys and rely on them), its tensor layout and its JSON form. The text side
// is Qwen2-VL's and is read by Qwen2VLConfig::load.
#include "vlm/model_config.h"

#include <QJsonObject>
#include <map>
#include <string>
#include <vector>

namespace mpa::vlm {

// Fills `v` from `vision` over Qwen2_5_VLVisionConfig's defaults; `where` names the file in
// errors. Out-of-range values (window not a multiple of the merged patch, full-attention block
// beyond the depth) are refused.
void readQwen25VisionConfig(const QJsonObject &vision, Qwen2VLVisionConfig &v, const QString &where);
QJsonObject qwen25VisionConfigJson(const Qwen2VLVisionConfig &v);
void addQwen25VisionShapes(const Qwen2VLVisionConfig &v, std::map<std::string, std::vector<std::int64_t>> &shapes);
std::int64_t qwen25VisionParameterCount(const Qwen2VLVisionConfig &v);

} // namespace mpa::vlm
