#include "workspace_table_models.h"

#include "verdict_text.h"

#include <QCoreApplication>

namespace mpa::ui {

namespace {
QString tr(const char *s)
{
    return QCoreApplication::translate("WorkspaceTables", s);
}
} // namespace

TableSpec imageTableSpec()
{
    TableSpec t;
    t.columns = QStringLiteral("id, path, status, format, width, height, file_size, error");
    t.from = QStringLiteral("images");
    t.key = QStringLiteral("id");
    t.headers = {tr("Id"), tr("Path"), tr("Status"), tr("Format"), tr("Width"), tr("Height"), tr("Bytes"), tr("Problem")};
    return t;
}

TableSpec sampleTableSpec()
{
    TableSpec t;
    t.columns = QStringLiteral("s.id, i.path, s.task, COALESCE(s.reviewed_question, s.question), COALESCE(s.reviewed_answer, s.answer), "
                               "s.parse_status, CASE WHEN s.outcome IS NULL THEN '' WHEN s.verdict_stale THEN %1 || ' (stale: re-identify)' "
                               "ELSE %1 END, CASE s.review_state WHEN 'approved' THEN 'approved' WHEN 'rejected' THEN 'rejected' ELSE 'not reviewed' END")
                    .arg(outcomeLabelSql());
    t.from = QStringLiteral("samples s JOIN images i ON i.id = s.image_id");
    t.key = QStringLiteral("s.id");
    t.headers = {tr("Id"), tr("Image"), tr("Task"), tr("Question"), tr("Answer"), tr("Parse"), tr("Outcome"), tr("Review")};
    return t;
}

TableSpec runTableSpec()
{
    TableSpec t;
    t.columns = QStringLiteral("id, kind, status, name, datetime(created_at / 1000, 'unixepoch'), "
                               "CASE WHEN finished_at IS NOT NULL THEN (finished_at - started_at) / 1000.0 END, error");
    t.from = QStringLiteral("runs");
    t.key = QStringLiteral("id");
    t.newestFirst = true;
    t.headers = {tr("Id"), tr("Kind"), tr("Status"), tr("Name"), tr("Created"), tr("Seconds"), tr("Error")};
    return t;
}

} // namespace mpa::ui
