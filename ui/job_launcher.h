#pragma once
// The run launchers: one dialog per job kind (annotate, identify, align, evaluate) with the
// settings a run needs, a preview of the reproducible run configuration (the same JSON
// `mpa <kind> --config` reads), and a refusal with the reason when the launch cannot work
// (model folder missing or broken, CUDA requested but absent, nothing to work on).
#include "store/workspace.h"

#include <QDialog>
#include <QJsonObject>

class QComboBox;
class QFormLayout;
class QLineEdit;
class QPlainTextEdit;
class QLabel;
class QPushButton;
class QSpinBox;

namespace mpa::ui {

enum class JobKind { Annotate, Identify, Align, Evaluate };

struct LaunchRequest
{
    JobKind kind = JobKind::Annotate;
    QString model;      // annotate/align/evaluate; the large model for identify
    QString smallModel; // identify
    QString device = QStringLiteral("cpu");
    QString dtype = QStringLiteral("f32");
    QString task = QStringLiteral("text");
    QString criterion = QStringLiteral("mpa");
    QString selection = QStringLiteral("approved-gaps");
    QString method = QStringLiteral("full");
    QString dataset;
    int batch = 4;
    int maxNewTokens = 128;
    QJsonObject toConfig() const; // the run configuration, as `mpa <kind> --save-config` writes it
};

// Empty when the request can run on this workspace now, else the reason (one sentence).
QString launchRefusal(const store::Workspace &ws, const LaunchRequest &request);

class JobLauncherDialog : public QDialog
{
    Q_OBJECT
public:
    JobLauncherDialog(const store::Workspace &ws, JobKind kind, QWidget *parent = nullptr);
    LaunchRequest request() const;
    QString refusal() const;

private:
    void update();
    void showRefusal(const QString &why);
    quint64 m_check = 0; // the newest validation request; older answers are dropped
    store::Workspace m_ws;
    JobKind m_kind;
    QLineEdit *m_model;
    QLineEdit *m_small = nullptr;
    QComboBox *m_device;
    QComboBox *m_dtype;
    QComboBox *m_choice = nullptr; // task / criterion / selection / dataset
    void applyPreset(int index);
    QSpinBox *m_batch;
    QSpinBox *m_tokens;
    QComboBox *m_preset;
    QPlainTextEdit *m_preview;
    QLabel *m_reason;
    QPushButton *m_launch;
};

} // namespace mpa::ui
