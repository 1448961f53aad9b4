#include "job_launcher.h"

#include "backends/torch_runtime.h"
#include "store/sql_util.h"
#include "util/error.h"
#include "vlm/vlm_model.h"

#include <QApplication>
#include <QComboBox>
#include <QPointer>
#include <QThread>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace mpa::ui {

QJsonObject LaunchRequest::toConfig() const
{
    QJsonObject o{{QStringLiteral("device"), device}, {QStringLiteral("dtype"), dtype}, {QStringLiteral("batch_size"), batch}};
    switch (kind) {
    case JobKind::Annotate:
        o.insert(QStringLiteral("model"), model);
        o.insert(QStringLiteral("task"), task);
        o.insert(QStringLiteral("pairs_per_image"), 1);
        o.insert(QStringLiteral("max_new_tokens"), maxNewTokens);
        break;
    case JobKind::Identify:
        o.insert(QStringLiteral("large_model"), model);
        o.insert(QStringLiteral("small_model"), smallModel);
        o.insert(QStringLiteral("criterion"), criterion);
        o.insert(QStringLiteral("max_new_tokens"), maxNewTokens);
        break;
    case JobKind::Align:
        o.insert(QStringLiteral("model"), model);
        o.insert(QStringLiteral("selection"), selection);
        o.insert(QStringLiteral("method"), method);
        o.remove(QStringLiteral("batch_size"));
        break;
    case JobKind::Evaluate:
        o.insert(QStringLiteral("model"), model);
        o.insert(QStringLiteral("dataset"), dataset);
        o.insert(QStringLiteral("max_new_tokens"), maxNewTokens);
        break;
    }
    return o;
}

namespace {

QString modelProblem(const QString &dir, const QString &what)
{
    if (dir.startsWith(QLatin1String("http://")) || dir.startsWith(QLatin1String("https://")))
        return {}; // an endpoint: checked when the run connects
    if (dir.isEmpty())
        return QObject::tr("Choose the %1.").arg(what);
    if (!QFileInfo(dir).isDir())
        return QObject::tr("The %1 folder %2 does not exist.").arg(what, dir);
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

} // namespace

QString launchRefusal(const store::Workspace &ws, const LaunchRequest &r)
{
    if (ws.isReadOnly())
        return QObject::tr("The workspace is open read-only.");
    if (r.device.startsWith(QLatin1String("cuda")) && !backends::torchRuntimeInfo().cudaAvailable)
        return QObject::tr("CUDA was requested but is not available (%1).").arg(backends::describeTorchRuntime());
    switch (r.kind) {
    case JobKind::Annotate:
        if (const QString p = modelProblem(r.model, QObject::tr("large model")); !p.isEmpty())
            return p;
        if (count(ws, QStringLiteral("SELECT count(*) FROM images WHERE status = 'ok'")) == 0)
            return QObject::tr("The workspace has no readable images: import an image folder first.");
        break;
    case JobKind::Identify:
        if (const QString p = modelProblem(r.model, QObject::tr("large model")); !p.isEmpty())
            return p;
        if (const QString p = modelProblem(r.smallModel, QObject::tr("small model")); !p.isEmpty())
            return p;
        if (r.model == r.smallModel)
            return QObject::tr("The large and the small model are the same folder.");
        if (count(ws, QStringLiteral("SELECT count(*) FROM samples WHERE parse_status = 'ok'")) == 0)
            return QObject::tr("There are no parsed pseudo question-answer pairs yet: run the Pseudo Annotator first.");
        break;
    case JobKind::Align:
        if (const QString p = modelProblem(r.model, QObject::tr("small model")); !p.isEmpty())
            return p;
        if (r.selection == QLatin1String("approved-gaps")
            && count(ws, QStringLiteral("SELECT count(*) FROM samples WHERE outcome = 'gap' AND review_state = 'approved'")) == 0)
            return QObject::tr("No approved knowledge gaps yet: identify parity, then approve gaps in the Review view (A).");
        break;
    case JobKind::Evaluate:
        if (const QString p = modelProblem(r.model, QObject::tr("model")); !p.isEmpty())
            return p;
        if (r.dataset.isEmpty())
            return QObject::tr("Import a benchmark first (mpa import --dataset ...).");
        break;
    }
    return {};
}

JobLauncherDialog::JobLauncherDialog(const store::Workspace &ws, JobKind kind, QWidget *parent)
    : QDialog(parent)
    , m_ws(ws)
    , m_kind(kind)
    , m_model(new QLineEdit(this))
    , m_device(new QComboBox(this))
    , m_dtype(new QComboBox(this))
    , m_batch(new QSpinBox(this))
    , m_tokens(new QSpinBox(this))
    , m_preset(new QComboBox(this))
    , m_preview(new QPlainTextEdit(this))
    , m_reason(new QLabel(this))
{
    static const char *titles[] = {"Pseudo-annotate images", "Identify parity", "Align the small model", "Evaluate a model"};
    setWindowTitle(tr(titles[static_cast<int>(kind)]));
    auto *form = new QFormLayout;
    // Presets fill the fields; everything stays editable and the preview shows the result.
    m_preset->setObjectName(QStringLiteral("preset"));
    m_preset->addItem(tr("MPA defaults (CPU, float32, batch 4, 128 new tokens)"));
    m_preset->addItem(tr("Quick look (CPU, batch 1, 32 new tokens)"));
    m_preset->addItem(tr("GPU server (CUDA, bfloat16, batch 16)"));
    form->addRow(tr("Preset"), m_preset);
    auto folderRow = [this, form](QLineEdit *edit, const QString &label) {
        auto *row = new QHBoxLayout;
        auto *browse = new QToolButton(this);
        browse->setText(QStringLiteral("…"));
        row->addWidget(edit, 1);
        row->addWidget(browse);
        edit->setPlaceholderText(tr("model folder or http(s)://host:port/v1"));
        form->addRow(label, row);
        connect(browse, &QToolButton::clicked, this, [this, edit] {
            const QString dir = QFileDialog::getExistingDirectory(this, tr("Model folder"));
            if (!dir.isEmpty())
                edit->setText(dir);
        });
        connect(edit, &QLineEdit::textChanged, this, &JobLauncherDialog::update);
    };
    folderRow(m_model, kind == JobKind::Identify ? tr("Large model") : kind == JobKind::Align ? tr("Small model") : kind == JobKind::Annotate ? tr("Large model") : tr("Model"));
    if (kind == JobKind::Identify) {
        m_small = new QLineEdit(this);
        folderRow(m_small, tr("Small model"));
    }
    m_choice = new QComboBox(this);
    if (kind == JobKind::Annotate) {
        m_choice->addItems({QStringLiteral("text"), QStringLiteral("chart"), QStringLiteral("knowledge")});
        form->addRow(tr("Task"), m_choice);
    } else if (kind == JobKind::Identify) {
        m_choice->addItems({QStringLiteral("mpa"), QStringLiteral("vqa"), QStringLiteral("anls"), QStringLiteral("relaxed")});
        form->addRow(tr("Criterion"), m_choice);
    } else if (kind == JobKind::Align) {
        m_choice->addItems({QStringLiteral("approved-gaps"), QStringLiteral("gaps"), QStringLiteral("all"), QStringLiteral("random")});
        form->addRow(tr("Training set"), m_choice);
    } else {
        QSqlDatabase db = ws.connection();
        QSqlQuery q = store::exec(db, QStringLiteral("SELECT DISTINCT dataset FROM benchmark_items ORDER BY dataset"));
        while (q.next())
            m_choice->addItem(q.value(0).toString());
        form->addRow(tr("Benchmark"), m_choice);
    }
    m_device->addItems({QStringLiteral("cpu"), QStringLiteral("cuda")});
    m_dtype->addItems({QStringLiteral("f32"), QStringLiteral("bf16"), QStringLiteral("f16")});
    m_batch->setRange(1, 256);
    m_batch->setValue(4);
    m_tokens->setRange(1, 4096);
    m_tokens->setValue(128);
    form->addRow(tr("Device"), m_device);
    form->addRow(tr("Precision"), m_dtype);
    form->addRow(tr("Batch"), m_batch);
    form->addRow(tr("Max new tokens"), m_tokens);
    m_preview->setReadOnly(true);
    m_preview->setMaximumHeight(160);
    m_reason->setWordWrap(true);
    m_reason->setStyleSheet(QStringLiteral("color: #c62828"));
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    m_launch = buttons->addButton(tr("Launch"), QDialogButtonBox::AcceptRole);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(new QLabel(tr("Run configuration (reproducible with mpa --config):"), this));
    layout->addWidget(m_preview);
    layout->addWidget(m_reason);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    for (QComboBox *c : {m_choice, m_device, m_dtype})
        connect(c, &QComboBox::currentTextChanged, this, &JobLauncherDialog::update);
    connect(m_batch, &QSpinBox::valueChanged, this, &JobLauncherDialog::update);
    connect(m_preset, &QComboBox::currentIndexChanged, this, &JobLauncherDialog::applyPreset);
    connect(m_tokens, &QSpinBox::valueChanged, this, &JobLauncherDialog::update);
    update();
}

void JobLauncherDialog::applyPreset(int index)
{
    struct Preset
    {
        const char *device, *dtype;
        int batch, tokens;
    };
    static const Preset presets[] = {{"cpu", "f32", 4, 128}, {"cpu", "f32", 1, 32}, {"cuda", "bf16", 16, 128}};
    const Preset &p = presets[std::clamp(index, 0, 2)];
    m_device->setCurrentText(QString::fromLatin1(p.device));
    m_dtype->setCurrentText(QString::fromLatin1(p.dtype));
    m_batch->setValue(p.batch);
    m_tokens->setValue(p.tokens);
    update();
}

LaunchRequest JobLauncherDialog::request() const
{
    LaunchRequest r;
    r.kind = m_kind;
    r.model = m_model->text().trimmed();
    r.smallModel = m_small ? m_small->text().trimmed() : QString();
    r.device = m_device->currentText();
    r.dtype = m_dtype->currentText();
    r.batch = m_batch->value();
    r.maxNewTokens = m_tokens->value();
    const QString choice = m_choice->currentText();
    switch (m_kind) {
    case JobKind::Annotate: r.task = choice; break;
    case JobKind::Identify: r.criterion = choice; break;
    case JobKind::Align: r.selection = choice; break;
    case JobKind::Evaluate: r.dataset = choice; break;
    }
    return r;
}

QString JobLauncherDialog::refusal() const
{
    return launchRefusal(m_ws, request());
}

void JobLauncherDialog::update()
{
    const LaunchRequest r = request();
    m_preview->setPlainText(QString::fromUtf8(QJsonDocument(r.toConfig()).toJson(QJsonDocument::Indented)));
    // Validating a model folder reads files: off the GUI thread, newest request wins. Launch
    // stays disabled until the answer arrives.
    m_launch->setEnabled(false);
    m_reason->setText(tr("checking…"));
    const quint64 check = ++m_check;
    const store::Workspace ws = m_ws;
    QPointer<JobLauncherDialog> self(this);
    QThread *worker = QThread::create([self, check, ws, r]() mutable {
        const QString why = launchRefusal(ws, r);
        ws.releaseThreadConnection();
        QMetaObject::invokeMethod(qApp, [self = std::move(self), check, why] {
            if (self && check == self->m_check)
                self->showRefusal(why);
        }, Qt::QueuedConnection);
    });
    connect(worker, &QThread::finished, worker, &QObject::deleteLater);
    worker->start();
}

void JobLauncherDialog::showRefusal(const QString &why)
{
    m_reason->setText(why);
    m_launch->setEnabled(why.isEmpty());
}

} // namespace mpa::ui
