#include "job_launcher.h"

#include "option_field.h"

#include "backends/torch_runtime.h"
#include "pipeline/training_data.h"
#include "store/rows.h"
#include "store/sql_util.h"
#include "util/error.h"
#include "util/json_file.h"
#include "vlm/vlm_model.h"

#include <QApplication>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QScrollArea>
#include <QRegularExpression>
#include <QThread>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>

namespace mpa::ui {

namespace {

QString modelProblem(const QString &dir, const QString &what)
{
    if (dir.startsWith(QLatin1String("http://")) || dir.startsWith(QLatin1String("https://")))
        return {}; // an endpoint: checked when the run connects
    if (dir.isEmpty())
        return QObject::tr("Choose the %1.").arg(what);
    if (!QFileInfo(dir).isDir()) {
        static const QRegularExpression hostPort(QStringLiteral("^[\\w.-]+(:| +)\\d+(/.*)?$"));
        if (hostPort.match(dir.trimmed()).hasMatch())
            return QObject::tr("\"%1\" is neither a model folder nor an endpoint address; an endpoint is written http://host:port/v1 "
                               "(for example http://localhost:8000/v1).").arg(dir);
        return QObject::tr("The %1 folder %2 does not exist.").arg(what, dir);
    }
    try {
        const vlm::ModelInspection r = vlm::inspectModelFolder(dir);
        if (!r.weightProblems.isEmpty())
            return QObject::tr("The %1 at %2 cannot be loaded: %3").arg(what, dir, r.weightProblems);
        if (r.filesMissing.contains(QStringLiteral("tokenizer.json")))
            return QObject::tr("The %1 at %2 has no tokenizer.json.").arg(what, dir);
    } catch (const Error &e) {
        return e.message();
    }
    return {};
}

qint64 count(const store::Workspace &ws, const QString &sql)
{
    QSqlDatabase db = ws.connection();
    return store::scalar(db, sql).toLongLong();
}

QString title(JobKind kind)
{
    switch (kind) {
    case JobKind::Annotate: return QObject::tr("Pseudo-annotate images");
    case JobKind::Identify: return QObject::tr("Identify parity");
    case JobKind::Align: return QObject::tr("Align the small model");
    case JobKind::Evaluate: return QObject::tr("Evaluate a model");
    }
    return {};
}

// Values a field offers beside what is typed: registered models by role, imported benchmarks
// and their splits. Read once when the dialog opens (small tables).
QStringList suggestionsFor(const store::Workspace &ws, const jobs::JobOption &o)
{
    QStringList out;
    try {
        QSqlDatabase db = ws.connection();
        store::Rows rows;
        if (o.type == jobs::OptionType::Model) {
            // The role's models first, then the others; aligned checkpoints are "other".
            rows = store::readRows(db, QStringLiteral("SELECT location FROM models WHERE kind IN ('native', 'http') AND location != '' "
                                                      "ORDER BY role = ? DESC, id DESC"),
                                   {o.modelRole.isEmpty() ? QStringLiteral("other") : o.modelRole});
        } else if (o.key == QLatin1String("dataset")) {
            rows = store::readRows(db, QStringLiteral("SELECT DISTINCT dataset FROM benchmark_items ORDER BY dataset"));
        } else if (o.key == QLatin1String("split")) {
            rows = store::readRows(db, QStringLiteral("SELECT DISTINCT split FROM benchmark_items ORDER BY split"));
        }
        for (const QVariantList &r : rows.rows)
            if (!out.contains(r.at(0).toString()))
                out << r.at(0).toString();
    } catch (const Error &) {
        // No suggestions; typing still works.
    }
    return out;
}

} // namespace

qint64 trainingSetSize(const store::Workspace &ws, const QJsonObject &c)
{
    return static_cast<qint64>(
        pipeline::selectTrainingSamples(ws, c.value(QStringLiteral("selection")).toString(), static_cast<std::uint64_t>(c.value(QStringLiteral("seed")).toInteger()))
            .size());
}

QString launchRefusal(const store::Workspace &ws, JobKind kind, const QJsonObject &c, std::optional<qint64> trainingSamples)
{
    if (ws.isReadOnly())
        return QObject::tr("The workspace is open read-only.");
    if (c.value(QStringLiteral("device")).toString().startsWith(QLatin1String("cuda")) && !backends::torchRuntimeInfo().cudaAvailable)
        return QObject::tr("CUDA was requested but is not available (%1).").arg(backends::describeTorchRuntime());
    for (const jobs::JobOption &o : jobs::jobOptions(kind))
        if (o.type == jobs::OptionType::Model)
            if (const QString p = modelProblem(c.value(o.key).toString(), o.label.toLower()); !p.isEmpty())
                return p;
    switch (kind) {
    case JobKind::Annotate:
        if (count(ws, QStringLiteral("SELECT count(*) FROM images WHERE status = 'ok'")) == 0)
            return QObject::tr("The workspace has no readable images: import an image folder first.");
        break;
    case JobKind::Identify:
        if (c.value(QStringLiteral("large_model")).toString() == c.value(QStringLiteral("small_model")).toString())
            return QObject::tr("The large and the small model are the same folder.");
        if (count(ws, QStringLiteral("SELECT count(*) FROM samples WHERE parse_status = 'ok'")) == 0)
            return QObject::tr("There are no parsed pseudo question-answer pairs yet: run the Pseudo Annotator first.");
        break;
    case JobKind::Align:
        if ((trainingSamples ? *trainingSamples : trainingSetSize(ws, c)) == 0)
            return c.value(QStringLiteral("selection")).toString() == QLatin1String("approved-gaps")
                       ? QObject::tr("No approved knowledge gaps yet: identify parity, then approve gaps in the Review view (A).")
                       : QObject::tr("This training set is empty: identify parity first.");
        break;
    case JobKind::Evaluate:
        if (c.value(QStringLiteral("dataset")).toString().isEmpty())
            return QObject::tr("Choose a benchmark (import one first: File > Import annotations).");
        break;
    }
    return {};
}

JobLauncherDialog::JobLauncherDialog(const store::Workspace &ws, JobKind kind, QWidget *parent)
    : QDialog(parent)
    , m_ws(ws)
    , m_kind(kind)
    , m_preset(new QComboBox(this))
    , m_preview(new QPlainTextEdit(this))
    , m_info(new QLabel(this))
    , m_reason(new QLabel(this))
{
    setWindowTitle(title(kind));
    auto *form = new QFormLayout;
    m_preset->setObjectName(QStringLiteral("preset"));
    const QList<jobs::JobPreset> presets = jobs::jobPresets(kind);
    for (const jobs::JobPreset &p : presets)
        m_preset->addItem(p.name);
    auto *presetRow = new QHBoxLayout;
    presetRow->addWidget(m_preset, 1);
    auto *load = new QPushButton(tr("Load…"), this);
    auto *save = new QPushButton(tr("Save…"), this);
    load->setObjectName(QStringLiteral("load-config"));
    save->setObjectName(QStringLiteral("save-config"));
    load->setToolTip(tr("Read a run configuration (mpa %1 --config FILE reads the same JSON).").arg(jobs::jobKindName(kind)));
    save->setToolTip(tr("Write this run configuration (mpa %1 --config FILE runs it headless).").arg(jobs::jobKindName(kind)));
    presetRow->addWidget(load);
    presetRow->addWidget(save);
    form->addRow(tr("Preset"), presetRow);

    // The advanced options sit in a collapsed section below the basic ones.
    auto *advanced = new QGroupBox(tr("Advanced"), this);
    auto *advancedForm = new QFormLayout(advanced);
    advanced->setVisible(false);
    auto *showAdvanced = new QToolButton(this);
    showAdvanced->setText(tr("Advanced settings"));
    showAdvanced->setCheckable(true);
    showAdvanced->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    showAdvanced->setArrowType(Qt::RightArrow);
    connect(showAdvanced, &QToolButton::toggled, this, [advanced, showAdvanced](bool on) {
        advanced->setVisible(on);
        showAdvanced->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
    });
    // The defaults, with the first registered model of each role (and the first benchmark)
    // preselected: applied once below, so one check runs, not one per field.
    QJsonObject initial = jobs::runConfiguration(kind, {});
    for (const jobs::JobOption &o : jobs::jobOptions(kind)) {
        const QStringList suggestions = suggestionsFor(ws, o);
        if ((o.type == jobs::OptionType::Model || o.key == QLatin1String("dataset")) && !suggestions.isEmpty())
            initial.insert(o.key, suggestions.first());
        auto *f = new OptionField(o, suggestions, this);
        m_fields.insert(o.flag, f);
        auto *label = new QLabel(o.label, this);
        label->setToolTip(o.help);
        (o.advanced ? advancedForm : form)->addRow(label, f);
        connect(f, &OptionField::edited, this, &JobLauncherDialog::update);
    }
    m_preview->setReadOnly(true);
    m_preview->setMaximumHeight(120);
    resize(620, 640);
    m_info->setWordWrap(true);
    m_reason->setWordWrap(true);
    m_reason->setStyleSheet(QStringLiteral("color: #c62828"));
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    m_launch = buttons->addButton(tr("Launch"), QDialogButtonBox::AcceptRole);
    // The fields scroll (alignment has ~30 options): the dialog fits a 1024 x 700 screen.
    auto *fields = new QWidget(this);
    auto *fieldsLayout = new QVBoxLayout(fields);
    fieldsLayout->setContentsMargins(0, 0, 0, 0);
    fieldsLayout->addLayout(form);
    fieldsLayout->addWidget(showAdvanced);
    fieldsLayout->addWidget(advanced);
    fieldsLayout->addStretch(1);
    auto *scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(fields);
    scroll->setMinimumHeight(260);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(scroll, 1);
    layout->addWidget(new QLabel(tr("Run configuration (the same JSON as mpa %1 --config):").arg(jobs::jobKindName(kind)), this));
    layout->addWidget(m_preview);
    layout->addWidget(m_info);
    layout->addWidget(m_reason);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_preset, &QComboBox::currentIndexChanged, this, [this, presets](int i) {
        if (i < 0 || i >= presets.size())
            return;
        // A preset sets the settings it names over the defaults; models, benchmark and name stay.
        QJsonObject c = jobs::runConfiguration(m_kind, {}, presets.at(i).settings);
        for (const jobs::JobOption &o : jobs::jobOptions(m_kind))
            if (o.type == jobs::OptionType::Model || o.key == QLatin1String("dataset") || o.key == QLatin1String("split") || o.key == QLatin1String("name"))
                c.insert(o.key, m_fields.value(o.flag)->text());
        applyConfiguration(c);
    });
    connect(load, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Run configuration"), {}, tr("JSON (*.json);;All files (*)"));
        if (!path.isEmpty())
            loadConfigurationFile(path);
    });
    connect(save, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Run configuration"), jobs::jobKindName(m_kind) + QStringLiteral(".json"),
                                                          tr("JSON (*.json)"));
        if (!path.isEmpty())
            saveConfigurationFile(path);
    });
    applyConfiguration(initial);
}

QJsonObject JobLauncherDialog::configuration() const
{
    return jobs::runConfiguration(m_kind, [this](const QString &flag) -> std::optional<QString> {
        const OptionField *f = m_fields.value(flag);
        if (!f)
            return std::nullopt;
        const QString t = f->text();
        // An empty numeric field keeps the default rather than failing.
        const auto type = f->option().type;
        if (t.isEmpty() && type != jobs::OptionType::Model && type != jobs::OptionType::Text && type != jobs::OptionType::Choice
            && type != jobs::OptionType::FlagSet && type != jobs::OptionType::List)
            return std::nullopt;
        return t;
    });
}

void JobLauncherDialog::applyConfiguration(const QJsonObject &config)
{
    const QJsonObject full = jobs::runConfiguration(m_kind, {}, config);
    for (const jobs::JobOption &o : jobs::jobOptions(m_kind)) {
        OptionField *f = m_fields.value(o.flag);
        const QSignalBlocker block(f);
        f->setText(jobs::optionText(o, full));
    }
    update();
}

QStringList JobLauncherDialog::optionFlags() const
{
    return m_fields.keys();
}

OptionField *JobLauncherDialog::field(const QString &flag) const
{
    return m_fields.value(flag);
}

bool JobLauncherDialog::loadConfigurationFile(const QString &path)
{
    try {
        applyConfiguration(json::readFile(path).object());
        return true;
    } catch (const Error &e) {
        QMessageBox::warning(this, tr("Load run configuration"), e.message());
        return false;
    }
}

bool JobLauncherDialog::saveConfigurationFile(const QString &path)
{
    try {
        json::writeFile(path, QJsonDocument(configuration()));
        return true;
    } catch (const Error &e) {
        QMessageBox::warning(this, tr("Save run configuration"), e.message());
        return false;
    }
}

QString JobLauncherDialog::refusal() const
{
    try {
        return launchRefusal(m_ws, m_kind, configuration());
    } catch (const Error &e) {
        return e.message();
    }
}

void JobLauncherDialog::update()
{
    QJsonObject c;
    try {
        c = configuration();
    } catch (const Error &e) {
        m_preview->clear();
        showCheck(e.message(), {});
        return;
    }
    m_preview->setPlainText(QString::fromUtf8(QJsonDocument(c).toJson(QJsonDocument::Indented)));
    // Validating a model folder and counting the training set read files: off the GUI thread,
    // newest request wins. Launch stays disabled until the answer arrives.
    m_launch->setEnabled(false);
    m_reason->setText(tr("checking…"));
    const quint64 check = ++m_check;
    const store::Workspace ws = m_ws;
    const JobKind kind = m_kind;
    QPointer<JobLauncherDialog> self(this);
    QThread *worker = QThread::create([self, check, ws, kind, c]() mutable {
        QString why, info;
        try {
            const std::optional<qint64> samples = kind == JobKind::Align ? std::optional<qint64>(trainingSetSize(ws, c)) : std::nullopt;
            why = launchRefusal(ws, kind, c, samples);
            if (samples) {
                const qint64 n = *samples;
                const qint64 perStep = std::max<qint64>(1, c.value(QStringLiteral("batch_size")).toInteger(1) * c.value(QStringLiteral("grad_accum")).toInteger(1));
                qint64 steps = static_cast<qint64>(std::ceil(static_cast<double>(n) / static_cast<double>(perStep))) * c.value(QStringLiteral("epochs")).toInteger(1);
                if (const qint64 cap = c.value(QStringLiteral("max_steps")).toInteger(); cap > 0)
                    steps = std::min(steps, cap);
                info = QObject::tr("The training set \"%1\" gives %2 samples: about %3 optimizer steps. Only approved knowledge gaps train by default.")
                           .arg(c.value(QStringLiteral("selection")).toString())
                           .arg(n)
                           .arg(steps);
            }
        } catch (const Error &e) {
            why = e.message();
        }
        ws.releaseThreadConnection();
        QMetaObject::invokeMethod(qApp, [self = std::move(self), check, why, info] {
            if (self && check == self->m_check)
                self->showCheck(why, info);
        }, Qt::QueuedConnection);
    });
    connect(worker, &QThread::finished, worker, &QObject::deleteLater);
    worker->start();
}

void JobLauncherDialog::showCheck(const QString &why, const QString &info)
{
    m_info->setText(info);
    m_info->setVisible(!info.isEmpty());
    m_reason->setText(why);
    m_launch->setEnabled(why.isEmpty());
}

} // namespace mpa::ui
