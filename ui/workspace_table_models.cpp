#include "workspace_table_models.h"

#include <QSqlError>
#include <QSqlQuery>

namespace mpa::ui {

namespace {
void runQuery(QSqlQueryModel *model, const store::Workspace &ws, const QString &sql, const QStringList &headers)
{
    QSqlQuery query(ws.connection());
    query.setForwardOnly(false);
    query.exec(sql);
    model->setQuery(std::move(query));
    for (int i = 0; i < headers.size(); ++i)
        model->setHeaderData(i, Qt::Horizontal, headers.at(i));
}
} // namespace

ImageTableModel::ImageTableModel(QObject *parent)
    : QSqlQueryModel(parent)
{
}

void ImageTableModel::load(const store::Workspace &ws)
{
    runQuery(this, ws,
             QStringLiteral("SELECT id, path, status, format, width, height, file_size, error FROM images ORDER BY id"),
             {tr("Id"), tr("Path"), tr("Status"), tr("Format"), tr("Width"), tr("Height"), tr("Bytes"), tr("Problem")});
}

SampleTableModel::SampleTableModel(QObject *parent)
    : QSqlQueryModel(parent)
{
}

void SampleTableModel::load(const store::Workspace &ws)
{
    runQuery(this, ws,
             QStringLiteral("SELECT s.id, i.path, s.task, COALESCE(s.reviewed_question, s.question), "
                            "COALESCE(s.reviewed_answer, s.answer), s.parse_status, COALESCE(s.outcome, ''), s.review_state "
                            "FROM samples s JOIN images i ON i.id = s.image_id ORDER BY s.id"),
             {tr("Id"), tr("Image"), tr("Task"), tr("Question"), tr("Answer"), tr("Parse"), tr("Outcome"), tr("Review")});
}

} // namespace mpa::ui
