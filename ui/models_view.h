#pragma once
// Models: native folders (validated before they are registered: architecture, parameters,
// dtype, missing files, weight names and shapes) and OpenAI-compatible endpoints (tested by
// listing /v1/models). Validation and network calls run off the GUI thread.
#include "store/records.h"
#include "store/workspace.h"

#include <QWidget>
#include <functional>
#include <optional>

class QPlainTextEdit;
class QStandardItemModel;
class QTableView;

namespace mpa::ui {

class ModelsView : public QWidget
{
    Q_OBJECT
public:
    explicit ModelsView(QWidget *parent = nullptr);
    void setWorkspace(const store::Workspace &ws);
    void reload();

    // Validates a folder on a worker thread, registers it when sound; `done(ok, report)` runs on
    // the GUI thread.
    void addFolder(const QString &dir, store::ModelRole role, std::function<void(bool, QString)> done = {});
    // Lists an endpoint's models on a worker thread and registers each of them.
    void addEndpoint(const QString &baseUrl, std::function<void(bool, QString)> done = {});
    QString lastReport() const;

private:
    std::optional<store::Workspace> m_ws;
    QStandardItemModel *m_model;
    QTableView *m_table;
    QPlainTextEdit *m_report;
};

} // namespace mpa::ui
