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
    // SmolVLM-Instruct (Idefics3): "<|im_start|>" once, then "Role:" / "Role: " per message.
    const bool smolvlm = compact.startsWith(QLatin1String("<|im_start|>{%formessageinmessages%}{{message['role']|capitalize}}"))
                         && compact.contains(QLatin1String("{%ifmessage['content'][0]['type']=='image'%}{{':'}}{%else%}{{':'}}{%endif%}"))
                         && compact.contains(QLatin1String("{{'<image>'}}")) && compact.contains(QLatin1String("<end_of_utterance>\n{%endfor%}"))
                         && compact.contains(QLatin1String("{%ifadd_generation_prompt%}{{'Assistant:'}}{%endif%}"));
    if (smolvlm)
        return ChatTemplate(Kind::SmolVLM);
    if (allowChatMLFallback)
        return ChatTemplate(Kind::ChatML);
    throw Error(QStringLiteral("%1: the chat template is not one MPA Studio renders (Qwen2-VL-Instruct's and SmolVLM-Instruct's). Prompts "
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

QString ChatTemplate::renderSmolVlm(const QList<ChatMessage> &messages, const ChatOptions &options) const
{
    QString out = QStringLiteral("<|im_start|>");
    for (const ChatMessage &m : messages) {
        // Jinja's capitalize: first character upper case, the rest lower case.
        out += m.role.left(1).toUpper() + m.role.mid(1).toLower();
        const bool imageFirst = !m.isString && !m.parts.isEmpty() && m.parts.first().kind == ChatPart::Kind::Image;
        out += imageFirst ? QStringLiteral(":") : QStringLiteral(": ");
        // String content renders nothing: the template iterates typed items only.
        if (!m.isString)
            for (const ChatPart &p : m.parts)
                out += p.kind == ChatPart::Kind::Text ? p.text : p.kind == ChatPart::Kind::Image ? QStringLiteral("<image>") : QString();
        out += QStringLiteral("<end_of_utterance>\n");
    }
    if (options.addGenerationPrompt)
        out += QStringLiteral("Assistant:");
    return out;
}

QString ChatTemplate::render(const QList<ChatMessage> &messages, const ChatOptions &options) const
{
    if (m_kind == Kind::SmolVLM)
        return renderSmolVlm(messages, options);
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
