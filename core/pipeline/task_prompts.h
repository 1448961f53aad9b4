#pragma once
// The Pseudo Annotator's task prompts and the official prompt/parse conventions of MPA.
#include "store/workspace.h"

#include <QString>
#include <QStringList>
#include <optional>

namespace mpa::pipeline {

QStringList builtInTasks(); // text, chart, knowledge
// The prompt shipped with MPA Studio for `task` (resources/prompts).
QString builtInPrompt(const QString &task);
// The prompt for `task` in this workspace: the workspace's edited copy, or the built-in one
// (copied into the workspace on first use so runs stay reproducible when resources change).
QString taskPrompt(const store::Workspace &ws, const QString &task);
void setTaskPrompt(const store::Workspace &ws, const QString &task, const QString &prompt);

struct ParsedPair
{
    QString question; // without the '?'
    QString answer;
};

// The official parse: question = text after "Question:" up to the first '?' on that line (the
// '?' dropped); answer = the rest of the line after "Answer:"; case-insensitive; both trimmed.
// nullopt when either is missing or empty (the official code stores None).
std::optional<ParsedPair> parsePseudoAnnotation(const QString &generated);

// The Parity Identifier's (and the evaluation's) official prompt: the question immediately
// followed, without a space, by the single-word-or-phrase instruction.
QString parityPrompt(const QString &question);

} // namespace mpa::pipeline
