#include "vlm/chat_template.h"

#include "util/error.h"
#include "util/json_file.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonObject>

namespace mpa::vlm {

ChatMessage ChatMessage::plain(const QString &role, const QString &text)
{
    ChatMessage m;
    m.role = role;
    m.isString = true;
    m.text = text;
    return m;
}

ChatMessage ChatMessage::withParts(const QString &role, const QList<ChatPart> &parts)
{
    ChatMessage m;
    m.role = role;
    m.isString = false;
    m.parts = parts;
    return m;
}

ChatTemplate ChatTemplate::fromTemplateText(const QString &text, const QString &where, bool allowChatMLFallback)
{
    // The Qwen2-VL-Instruct template (also its variant with {% generation %} markers) is
    // recognised by the pieces that define its output.
    QString compact = text;
    compact.remove(QLatin1Char(' '));
    const bool qwen2vl = compact.contains(QLatin1String("<|im_start|>system\nYouareahelpfulassistant.<|im_end|>"))
                         && compact.contains(QLatin1String("<|vision_start|><|image_pad|><|vision_end|>"))
                         && compact.contains(QLatin1String("<|vision_start|><|video_pad|><|vision_end|>"))
                         && compact.contains(QLatin1String("<|im_start|>assistant\n"));
    if (qwen2vl)
        return ChatTemplate(Kind::Qwen2VL);
    if (allowChatMLFallback)
        return ChatTemplate(Kind::ChatML);
    throw Error(QStringLiteral("%1: the chat template is not one MPA Studio renders (only Qwen2-VL-Instruct's). Prompts "
                               "would not match what the model was trained on; opt in to the plain ChatML fallback if "
                               "you know the model uses ChatML").arg(where));
}

ChatTemplate ChatTemplate::fromModelFolder(const QString &dir, bool allowChatMLFallback)
{
    const QDir d(dir);
    for (const char *name : {"chat_template.json", "tokenizer_config.json"}) {
        const QString path = d.filePath(QLatin1String(name));
        if (!QFileInfo::exists(path))
            continue;
        const QString text = json::readFile(path).object().value(QStringLiteral("chat_template")).toString();
        if (!text.isEmpty())
            return fromTemplateText(text, path, allowChatMLFallback);
    }
    if (allowChatMLFallback)
        return ChatTemplate(Kind::ChatML);
    throw Error(QStringLiteral("%1: no chat template (chat_template.json or tokenizer_config.json \"chat_template\")").arg(dir));
}

QString ChatTemplate::render(const QList<ChatMessage> &messages, const ChatOptions &options) const
{
    QString out;
    int images = 0, videos = 0;
    for (qsizetype i = 0; i < messages.size(); ++i) {
        const ChatMessage &m = messages[i];
        if (i == 0 && m.role != QLatin1String("system") && m_kind == Kind::Qwen2VL)
            out += QStringLiteral("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n");
        out += QStringLiteral("<|im_start|>") + m.role + QLatin1Char('\n');
        if (m.isString) {
            out += m.text;
        } else {
            for (const ChatPart &p : m.parts) {
                switch (p.kind) {
                case ChatPart::Kind::Image:
                    ++images;
                    if (options.addVisionId)
                        out += QStringLiteral("Picture %1: ").arg(images);
                    out += QStringLiteral("<|vision_start|><|image_pad|><|vision_end|>");
                    break;
                case ChatPart::Kind::Video:
                    ++videos;
                    if (options.addVisionId)
                        out += QStringLiteral("Video %1: ").arg(videos);
                    out += QStringLiteral("<|vision_start|><|video_pad|><|vision_end|>");
                    break;
                case ChatPart::Kind::Text:
                    out += p.text;
                    break;
                }
            }
        }
        out += QStringLiteral("<|im_end|>\n");
    }
    if (options.addGenerationPrompt)
        out += QStringLiteral("<|im_start|>assistant\n");
    return out;
}

} // namespace mpa::vlm
