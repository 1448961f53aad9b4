#pragma once
// The run launchers: one dialog per job kind, its fields generated from the job's option list
// (jobs/job_options.h: the same list `mpa <kind>` parses, so the two cannot drift), basic
// settings first and the rest under "Advanced". Presets (the paper's defaults, exactly what
// `mpa demo run` uses, ...), Load/Save of the `--config` JSON, a preview of the run
// configuration, registered models offered by role, for alignment the number of training
// samples the selection gives, and a refusal with the reason when the launch cannot work
// (model folder missing or broken, CUDA requested but absent, nothing to work on).
#include "jobs/job_options.h"
#include "store/workspace.h"

#include <QDialog>
#include <QJsonObject>
#include <QMap>
#include <optional>

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;

namespace mpa::ui {

class OptionField;

using jobs::JobKind;

// Empty when the configuration can run on this workspace now, else the reason (one sentence).
// Reads model folders and the training set: call it off the GUI thread. `trainingSamples`:
// the alignment's training-set size when the caller has already counted it.
QString launchRefusal(const store::Workspace &ws, JobKind kind, const QJsonObject &config, std::optional<qint64> trainingSamples = std::nullopt);
// How many samples an alignment with this configuration trains on.
qint64 trainingSetSize(const store::Workspace &ws, const QJsonObject &config);

class JobLauncherDialog : public QDialog
{
    Q_OBJECT
public:
    JobLauncherDialog(const store::Workspace &ws, JobKind kind, QWidget *parent = nullptr);
    JobKind kind() const { return m_kind; }
    // The run configuration the fields hold; throws mpa::Error naming a field with a bad value.
    QJsonObject configuration() const;
    QString refusal() const;
    // Fills every field from a configuration (a preset, a loaded --config file, a stored run).
    void applyConfiguration(const QJsonObject &config);
    QStringList optionFlags() const; // the options it offers, by flag
    OptionField *field(const QString &flag) const;
    bool loadConfigurationFile(const QString &path);
    bool saveConfigurationFile(const QString &path);

private:
    void update();
    void showCheck(const QString &why, const QString &info);
    quint64 m_check = 0; // the newest validation request; older answers are dropped
    store::Workspace m_ws;
    JobKind m_kind;
    QMap<QString, OptionField *> m_fields;
    QComboBox *m_preset;
    QPlainTextEdit *m_preview;
    QLabel *m_info;
    QLabel *m_reason;
    QPushButton *m_launch;
};

} // namespace mpa::ui
