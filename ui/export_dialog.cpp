#include "export_dialog.h"

#include "store/rows.h"
#include "util/error.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

namespace mpa::ui {

ExportDialog::ExportDialog(const store::Workspace &ws, QWidget *parent)
    : QDialog(parent)
    , m_format(new QComboBox(this))
    , m_selection(new QComboBox(this))
    , m_out(new QLineEdit(this))
    , m_imageRoot(new QLineEdit(this))
    , m_datasetName(new QLineEdit(QStringLiteral("mpa_gaps"), this))
    , m_run(new QComboBox(this))
    , m_hint(new QLabel(this))
{
    setWindowTitle(tr("Export"));
    m_format->setObjectName(QStringLiteral("format"));
    m_selection->setObjectName(QStringLiteral("select"));
    m_out->setObjectName(QStringLiteral("out"));
    m_format->addItem(tr("LLaVA / Qwen2-VL-Finetune JSON"), static_cast<int>(datasets::ExportFormat::Llava));
    m_format->addItem(tr("ShareGPT for LLaMA-Factory (writes dataset_info.json beside it)"), static_cast<int>(datasets::ExportFormat::ShareGpt));
    m_format->addItem(tr("MPA Studio JSONL (everything, re-importable)"), static_cast<int>(datasets::ExportFormat::Jsonl));
    m_format->addItem(tr("VQA results of an evaluation run (for an official evaluator)"), static_cast<int>(datasets::ExportFormat::VqaResults));
    m_selection->addItem(tr("Approved knowledge gaps (what alignment trains on by default)"), static_cast<int>(datasets::ExportSelection::ApprovedGaps));
    m_selection->addItem(tr("Every knowledge gap not rejected"), static_cast<int>(datasets::ExportSelection::Gaps));
    m_selection->addItem(tr("Every approved sample"), static_cast<int>(datasets::ExportSelection::Approved));
    m_selection->addItem(tr("Every sample"), static_cast<int>(datasets::ExportSelection::All));
    m_imageRoot->setPlaceholderText(tr("optional: write image paths relative to this folder"));
    m_run->addItem(tr("the latest evaluation"), 0);
    try {
        QSqlDatabase db = ws.connection();
        const store::Rows runs = store::readRows(db, QStringLiteral("SELECT id, name FROM runs WHERE kind = 'evaluate' AND status = 'finished' ORDER BY id DESC"));
        for (const QVariantList &r : runs.rows)
            m_run->addItem(tr("#%1 %2").arg(r.at(0).toLongLong()).arg(r.at(1).toString()), r.at(0).toLongLong());
    } catch (const Error &) {
    }
    auto *outRow = new QHBoxLayout;
    auto *browse = new QToolButton(this);
    browse->setText(QStringLiteral("…"));
    outRow->addWidget(m_out, 1);
    outRow->addWidget(browse);
    connect(browse, &QToolButton::clicked, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Export to"), m_out->text(), tr("JSON (*.json *.jsonl);;All files (*)"));
        if (!f.isEmpty())
            m_out->setText(f);
    });
    auto *form = new QFormLayout;
    form->addRow(tr("Format"), m_format);
    form->addRow(tr("Samples"), m_selection);
    form->addRow(tr("Evaluation run"), m_run);
    form->addRow(tr("File"), outRow);
    form->addRow(tr("Image root"), m_imageRoot);
    form->addRow(tr("Dataset name"), m_datasetName);
    m_hint->setWordWrap(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    buttons->addButton(tr("Export"), QDialogButtonBox::AcceptRole)->setObjectName(QStringLiteral("export"));
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_hint);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_format, &QComboBox::currentIndexChanged, this, &ExportDialog::update);
    update();
}

void ExportDialog::update()
{
    const auto f = static_cast<datasets::ExportFormat>(m_format->currentData().toInt());
    const bool results = f == datasets::ExportFormat::VqaResults;
    m_selection->setEnabled(!results);
    m_run->setEnabled(results);
    m_datasetName->setEnabled(f == datasets::ExportFormat::ShareGpt);
    m_hint->setText(results ? tr("The run's predictions as [{question_id, answer}], scored by the benchmark's official evaluator.")
                            : tr("Equivalent: mpa export WS --format %1 OUT").arg(f == datasets::ExportFormat::Llava      ? QStringLiteral("llava")
                                                                                  : f == datasets::ExportFormat::ShareGpt ? QStringLiteral("sharegpt")
                                                                                                                          : QStringLiteral("jsonl")));
}

datasets::ExportOptions ExportDialog::options() const
{
    datasets::ExportOptions o;
    o.format = static_cast<datasets::ExportFormat>(m_format->currentData().toInt());
    o.selection = static_cast<datasets::ExportSelection>(m_selection->currentData().toInt());
    o.imageRoot = m_imageRoot->text().trimmed();
    o.datasetName = m_datasetName->text().trimmed().isEmpty() ? QStringLiteral("mpa_gaps") : m_datasetName->text().trimmed();
    o.runId = m_run->currentData().toLongLong();
    return o;
}

QString ExportDialog::outputPath() const
{
    return m_out->text().trimmed();
}

void ExportDialog::setOutputPath(const QString &path)
{
    m_out->setText(path);
}

void ExportDialog::setFormat(datasets::ExportFormat format)
{
    m_format->setCurrentIndex(m_format->findData(static_cast<int>(format)));
}

void ExportDialog::setSelection(datasets::ExportSelection selection)
{
    m_selection->setCurrentIndex(m_selection->findData(static_cast<int>(selection)));
}

} // namespace mpa::ui
