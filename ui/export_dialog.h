#pragma once
// The Export dialog: every `mpa export` format (LLaVA / Qwen2-VL-Finetune JSON, ShareGPT for
// LLaMA-Factory, lossless JSONL, a run's predictions in the VQA results format) and selection
// (approved gaps: the training set, gaps, approved, all), the image root, the ShareGPT dataset
// name and the evaluation run. The export itself runs as a job (the GUI thread never writes it).
#include "datasets/exporter.h"
#include "store/workspace.h"

#include <QDialog>

class QComboBox;
class QLabel;
class QLineEdit;

namespace mpa::ui {

class ExportDialog : public QDialog
{
    Q_OBJECT
public:
    ExportDialog(const store::Workspace &ws, QWidget *parent = nullptr);
    datasets::ExportOptions options() const;
    QString outputPath() const;
    void setOutputPath(const QString &path);
    void setFormat(datasets::ExportFormat format);
    void setSelection(datasets::ExportSelection selection);

private:
    void update();
    QComboBox *m_format;
    QComboBox *m_selection;
    QLineEdit *m_out;
    QLineEdit *m_imageRoot;
    QLineEdit *m_datasetName;
    QComboBox *m_run;
    QLabel *m_hint;
};

} // namespace mpa::ui
