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
    t.sortExpressions = {QStringLiteral("id"), QStringLiteral("path"), QStringLiteral("status"), QStringLiteral("format"), QStringLiteral("width"),
                         QStringLiteral("height"), QStringLiteral("file_size"), QStringLiteral("error")};
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
    t.sortExpressions = {QStringLiteral("s.id"), QStringLiteral("i.path"), QStringLiteral("s.task"), QStringLiteral("COALESCE(s.reviewed_question, s.question)"),
                         QStringLiteral("COALESCE(s.reviewed_answer, s.answer)"), QStringLiteral("s.parse_status"), QStringLiteral("s.outcome"),
                         QStringLiteral("s.review_state")};
    return t;
}

TableSpec runTableSpec()
{
    TableSpec t;
    // Durations as people read them (store::humanDuration's rule, in SQL so the table stays a
    // plain query): 4.2 s, 42 s, 3 min 05 s, 2 h 07 min.
    const QString d = QStringLiteral("(finished_at - started_at)");
    t.columns = QStringLiteral("id, kind, status, name, datetime(created_at / 1000, 'unixepoch', 'localtime'), "
                               "CASE WHEN finished_at IS NULL OR started_at IS NULL THEN NULL "
                               "WHEN %1 < 10000 THEN printf('%.1f s', %1 / 1000.0) "
                               "WHEN %1 < 59500 THEN printf('%d s', (%1 + 500) / 1000) "
                               "WHEN %1 < 3600000 THEN printf('%d min %02d s', (%1 + 500) / 60000, ((%1 + 500) / 1000) % 60) "
                               "ELSE printf('%d h %02d min', %1 / 3600000, (%1 / 60000) % 60) END, error")
                    .arg(d);
    t.from = QStringLiteral("runs");
    t.key = QStringLiteral("id");
    t.newestFirst = true;
    t.headers = {tr("Id"), tr("Kind"), tr("Status"), tr("Name"), tr("Created"), tr("Duration"), tr("Error")};
    t.sortExpressions = {QStringLiteral("id"), QStringLiteral("kind"), QStringLiteral("status"), QStringLiteral("name"), QStringLiteral("created_at"),
                         QStringLiteral("finished_at - started_at"), QStringLiteral("error")};
    return t;
}

} // namespace mpa::ui
