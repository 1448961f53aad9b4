#include "models_view.h"

#include "off_thread.h"

#include "store/rows.h"

#include "backends/http_backend.h"
#include "store/catalog.h"
#include "util/error.h"
#include "vlm/vlm_model.h"

#include <QApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QLineEdit>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSqlQuery>
#include <QStandardItemModel>
#include <QTableView>

#include "empty_state.h"
#include <QVBoxLayout>

namespace mpa::ui {


ModelsView::ModelsView(QWidget *parent)
    : QWidget(parent)
    , m_model(new QStandardItemModel(this))
    , m_table(new QTableView(this))
    , m_report(new QPlainTextEdit(this))
{
    m_table->setModel(m_model);
    attachEmptyState(m_table, [] {
        return tr("No models registered yet. Add a model folder or an endpoint; models used by a run are registered by it.");
    });
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_report->setReadOnly(true);
    m_report->setPlaceholderText(tr("Validation reports appear here."));
    auto *addFolderButton = new QPushButton(tr("Add model folder…"), this);
    auto *addEndpointButton = new QPushButton(tr("Add endpoint…"), this);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(addFolderButton);
    buttons->addWidget(addEndpointButton);
    buttons->addStretch();
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addWidget(m_table, 2);
    layout->addWidget(m_report, 1);
    connect(addFolderButton, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Model folder (Hugging Face layout)"));
        if (dir.isEmpty())
            return;
        const QString role = QInputDialog::getItem(this, tr("Role"), tr("This model is the"), {tr("large model"), tr("small model"), tr("other")}, 1, false);
        addFolder(dir, role.startsWith(QLatin1String("large")) ? store::ModelRole::Large
                       : role.startsWith(QLatin1String("small")) ? store::ModelRole::Small : store::ModelRole::Other);
    });
    connect(addEndpointButton, &QPushButton::clicked, this, [this] {
        const QString url = QInputDialog::getText(this, tr("OpenAI-compatible endpoint"), tr("Base URL"), QLineEdit::Normal,
                                                  QStringLiteral("http://127.0.0.1:8000/v1"));
        if (!url.isEmpty())
            addEndpoint(url);
    });
}

void ModelsView::setWorkspace(const store::Workspace &ws)
{
    m_ws = ws;
    reload();
}

void ModelsView::reload()
{
    if (!m_ws)
        return;
    store::Rows rows;
    try {
        QSqlDatabase db = m_ws->connection();
        rows = store::readRows(db, QStringLiteral("SELECT name, kind, role, location FROM models ORDER BY id"));
    } catch (const Error &) {
        return; // busy: the next change reloads
    }
    m_model->clear();
    m_model->setHorizontalHeaderLabels({tr("name"), tr("kind"), tr("role"), tr("location")});
    for (const QVariantList &v : rows.rows) {
        QList<QStandardItem *> row;
        for (const QVariant &c : v) {
            auto *item = new QStandardItem(c.toString());
            item->setEditable(false);
            row << item;
        }
        m_model->appendRow(row);
    }
}

QString ModelsView::lastReport() const
{
    return m_report->toPlainText();
}

void ModelsView::addFolder(const QString &dir, store::ModelRole role, std::function<void(bool, QString)> done)
{
    if (!m_ws)
        return;
    m_report->setPlainText(tr("Checking %1…").arg(dir));
    struct Result
    {
        bool ok;
        QString report;
        QString name;
    };
    offThread(this, [dir] {
        try {
            const vlm::ModelInspection r = vlm::inspectModelFolder(dir);
            const bool ok = r.weightProblems.isEmpty() && !r.filesMissing.contains(QStringLiteral("tokenizer.json"));
            return Result{ok, r.toText(), QFileInfo(dir).fileName()};
        } catch (const Error &e) {
            return Result{false, e.message(), {}};
        }
    }, [this, dir, role, done](const Result &r) {
        QString report = r.report;
        if (r.ok) {
            store::Catalog(*m_ws).ensureModel(r.name, store::ModelKind::Native, QFileInfo(dir).absoluteFilePath(), role);
            report += tr("\nRegistered as %1.").arg(r.name);
            reload();
        } else {
            report += tr("\nNot registered: fix the problems above.");
        }
        m_report->setPlainText(report);
        if (done)
            done(r.ok, report);
    });
}

void ModelsView::addEndpoint(const QString &baseUrl, std::function<void(bool, QString)> done)
{
    if (!m_ws)
        return;
    m_report->setPlainText(tr("Connecting to %1…").arg(baseUrl));
    struct Result
    {
        bool ok;
        QStringList models;
        QString error;
    };
    offThread(this, [baseUrl] {
        backends::HttpBackendOptions o;
        o.baseUrl = baseUrl;
        o.timeoutMs = 10000;
        try {
            return Result{true, backends::listServedModels(o), {}};
        } catch (const Error &e) {
            return Result{false, {}, e.message()};
        }
    }, [this, baseUrl, done](const Result &r) {
        QString report;
        if (r.ok) {
            for (const QString &m : r.models)
                store::Catalog(*m_ws).ensureModel(m, store::ModelKind::Http, baseUrl, store::ModelRole::Other);
            report = tr("%1 serves: %2\nRegistered.").arg(baseUrl, r.models.join(QStringLiteral(", ")));
            reload();
        } else {
            report = tr("Connection failed: %1").arg(r.error);
        }
        m_report->setPlainText(report);
        if (done)
            done(r.ok, report);
    });
}

} // namespace mpa::ui
