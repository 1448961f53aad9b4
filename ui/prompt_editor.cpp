#include "prompt_editor.h"

#include "pipeline/task_prompts.h"
#include "util/error.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace mpa::ui {

PromptEditorDialog::PromptEditorDialog(const store::Workspace &ws, QWidget *parent)
    : QDialog(parent)
    , m_ws(ws)
    , m_task(new QComboBox(this))
    , m_prompt(new QPlainTextEdit(this))
    , m_output(new QLineEdit(this))
    , m_parse(new QLabel(this))
{
    setWindowTitle(tr("Pseudo Annotator prompts"));
    resize(720, 520);
    m_task->setObjectName(QStringLiteral("task"));
    m_prompt->setObjectName(QStringLiteral("prompt"));
    m_output->setObjectName(QStringLiteral("sample-output"));
    m_task->addItems(pipeline::builtInTasks());
    m_output->setText(QStringLiteral("Question: What is written on the sign? Answer: STOP"));
    m_output->setToolTip(tr("A model output to try the parse on"));
    m_parse->setWordWrap(true);
    auto *reset = new QPushButton(tr("Reset to the official prompt"), this);
    reset->setObjectName(QStringLiteral("reset"));
    auto *form = new QFormLayout;
    form->addRow(tr("Task"), m_task);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    buttons->addButton(reset, QDialogButtonBox::ResetRole);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(new QLabel(tr("The prompt the large model gets with each image (this workspace's copy; runs record the prompt they used):"), this));
    layout->addWidget(m_prompt, 1);
    layout->addWidget(new QLabel(tr("Try the parse on a model output:"), this));
    layout->addWidget(m_output);
    layout->addWidget(m_parse);
    layout->addWidget(buttons);
    connect(m_task, &QComboBox::currentTextChanged, this, &PromptEditorDialog::setTask);
    connect(m_prompt, &QPlainTextEdit::textChanged, this, [this] {
        if (!m_shownTask.isEmpty())
            m_edited.insert(m_shownTask, m_prompt->toPlainText());
    });
    connect(m_output, &QLineEdit::textChanged, this, &PromptEditorDialog::showParse);
    connect(reset, &QPushButton::clicked, this, &PromptEditorDialog::resetToOfficial);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        if (save())
            accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    setTask(m_task->currentText());
    showParse();
}

void PromptEditorDialog::setTask(const QString &task)
{
    if (m_task->currentText() != task)
        m_task->setCurrentText(task);
    QString text = m_edited.value(task);
    if (!m_edited.contains(task)) {
        try {
            text = pipeline::taskPrompt(m_ws, task);
        } catch (const Error &e) {
            text = pipeline::builtInPrompt(task);
            m_parse->setText(e.message());
        }
    }
    m_shownTask.clear(); // loading is not an edit
    m_prompt->setPlainText(text);
    m_shownTask = task;
}

QString PromptEditorDialog::promptText() const
{
    return m_prompt->toPlainText();
}

void PromptEditorDialog::setPromptText(const QString &text)
{
    m_prompt->setPlainText(text);
}

void PromptEditorDialog::resetToOfficial()
{
    m_prompt->setPlainText(pipeline::builtInPrompt(m_shownTask));
}

void PromptEditorDialog::setSampleOutput(const QString &text)
{
    m_output->setText(text);
}

QString PromptEditorDialog::parsePreview() const
{
    return m_parse->text();
}

void PromptEditorDialog::showParse()
{
    const auto pair = pipeline::parsePseudoAnnotation(m_output->text());
    m_parse->setText(pair ? tr("Parses as question \"%1\" and answer \"%2\".").arg(pair->question, pair->answer)
                          : tr("Does not parse: the official rule needs \"Question: …?\" and \"Answer: …\". Such outputs are kept as parse failures."));
}

bool PromptEditorDialog::save()
{
    try {
        for (auto it = m_edited.begin(); it != m_edited.end(); ++it) {
            if (it.value().trimmed().isEmpty())
                throw Error(tr("The %1 prompt is empty.").arg(it.key()));
            pipeline::setTaskPrompt(m_ws, it.key(), it.value());
        }
        return true;
    } catch (const Error &e) {
        QMessageBox::warning(this, windowTitle(), e.message());
        return false;
    }
}

} // namespace mpa::ui
