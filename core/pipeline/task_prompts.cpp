#include "pipeline/task_prompts.h"

#include "store/sql_util.h"
#include "util/error.h"

#include <QFile>
#include <QRegularExpression>

namespace mpa::pipeline {

QStringList builtInTasks()
{
    return {QStringLiteral("text"), QStringLiteral("chart"), QStringLiteral("knowledge")};
}

QString builtInPrompt(const QString &task)
{
    QFile f(QStringLiteral(":/prompts/%1.txt").arg(task));
    if (!f.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("no prompt for task \"%1\" (built-in tasks: %2; add one to the workspace)")
                        .arg(task, builtInTasks().join(QStringLiteral(", "))));
    return QString::fromUtf8(f.readAll()).trimmed();
}

QString taskPrompt(const store::Workspace &ws, const QString &task)
{
    QSqlDatabase db = ws.connection();
    const QVariant stored = store::scalar(db, QStringLiteral("SELECT prompt FROM task_prompts WHERE task = ?"), {task});
    if (stored.isValid() && !stored.isNull())
        return stored.toString();
    const QString prompt = builtInPrompt(task);
    if (!ws.isReadOnly())
        setTaskPrompt(ws, task, prompt);
    return prompt;
}

void setTaskPrompt(const store::Workspace &ws, const QString &task, const QString &prompt)
{
    ws.requireWritable(QStringLiteral("edit a task prompt"));
    QSqlDatabase db = ws.connection();
    store::exec(db, QStringLiteral("INSERT INTO task_prompts(task, title, prompt, updated_at) VALUES(?,?,?,?) "
                                   "ON CONFLICT(task) DO UPDATE SET prompt = excluded.prompt, updated_at = excluded.updated_at"),
                {task, task, prompt, store::nowMs()});
}

std::optional<ParsedPair> parsePseudoAnnotation(const QString &generated)
{
    static const QRegularExpression question(QStringLiteral("question:([^\\n]*?)\\?"), QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression answer(QStringLiteral("answer:([^\\n]*)"), QRegularExpression::CaseInsensitiveOption);
    const auto q = question.match(generated);
    const auto a = answer.match(generated);
    if (!q.hasMatch() || !a.hasMatch())
        return std::nullopt;
    ParsedPair p{q.captured(1).trimmed(), a.captured(1).trimmed()};
    if (p.question.isEmpty() || p.answer.isEmpty())
        return std::nullopt;
    return p;
}

QString parityPrompt(const QString &question)
{
    return question + QStringLiteral("Answer the following question in a single word or phrase.");
}

} // namespace mpa::pipeline
