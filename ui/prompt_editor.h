#pragma once
// The Pseudo Annotator's prompts, per task and per workspace: edit, reset to the official
// prompt shipped with MPA Studio, and a preview of how a model output would parse (the official
// "Question: ...? Answer: ..." rule), so a prompt that asks for another format is caught before
// a run wastes the large model's time.
#include "store/workspace.h"

#include <QDialog>
#include <QHash>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;

namespace mpa::ui {

class PromptEditorDialog : public QDialog
{
    Q_OBJECT
public:
    PromptEditorDialog(const store::Workspace &ws, QWidget *parent = nullptr);
    void setTask(const QString &task);
    QString promptText() const;
    void setPromptText(const QString &text);
    void resetToOfficial();
    void setSampleOutput(const QString &text);
    QString parsePreview() const;
    bool save(); // writes every edited task's prompt; false (with a message) when it cannot

private:
    void showParse();
    store::Workspace m_ws;
    QComboBox *m_task;
    QPlainTextEdit *m_prompt;
    QLineEdit *m_output;
    QLabel *m_parse;
    QHash<QString, QString> m_edited; // task -> prompt as edited here
    QString m_shownTask;
};

} // namespace mpa::ui
