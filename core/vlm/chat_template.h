#pragma once
// Chat templates rendered natively (no Jinja engine): the Qwen2-VL-Instruct template (also
// Qwen2.5-VL's) and SmolVLM-Instruct's, exactly as transformers renders them, and an opt-in
// plain ChatML fallback for model folders whose template we do not recognise.
#include <QList>
#include <QString>

namespace mpa::vlm {

struct ChatPart
{
    enum class Kind { Text, Image, Video };
    Kind kind = Kind::Text;
    QString text;
};

struct ChatMessage
{
    QString role; // system, user, assistant
    // Either plain string content or a list of parts (the template treats them differently
    // only in how images are emitted; both are supported).
    bool isString = true;
    QString text;
    QList<ChatPart> parts;

    static ChatMessage plain(const QString &role, const QString &text);
    static ChatMessage withParts(const QString &role, const QList<ChatPart> &parts);
};

struct ChatOptions
{
    bool addGenerationPrompt = true;
    bool addVisionId = false; // "Picture 1: " before each image
};

class ChatTemplate
{
public:
    enum class Kind { Qwen2VL, SmolVLM, ChatML };
    // Reads chat_template.json or tokenizer_config.json's "chat_template" from a model folder.
    // An unrecognised template is refused with a clear message unless allowChatMLFallback.
    static ChatTemplate fromModelFolder(const QString &dir, bool allowChatMLFallback = false);
    // Recognises a template text; throws for one we do not render.
    static ChatTemplate fromTemplateText(const QString &text, const QString &where, bool allowChatMLFallback = false);
    static ChatTemplate qwen2vl() { return ChatTemplate(Kind::Qwen2VL); }
    static ChatTemplate smolvlm() { return ChatTemplate(Kind::SmolVLM); }

    Kind kind() const { return m_kind; }
    QString render(const QList<ChatMessage> &messages, const ChatOptions &options = {}) const;

private:
    explicit ChatTemplate(Kind kind) : m_kind(kind) {}
    QString renderSmolVlm(const QList<ChatMessage> &messages, const ChatOptions &options) const;
    Kind m_kind;
};

} // namespace mpa::vlm
