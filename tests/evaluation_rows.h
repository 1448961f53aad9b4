#pragma once
// An evaluated benchmark of a real split's size, written straight into a workspace (the images
// recorded as missing): `questions` ANLS (stvqa) items with the reference "answer <id>", and
// `runs` finished evaluation runs. Run r answers item v with its exact reference when
// v % (r + 1) == 0 and otherwise with "zzz", which shares no character with it (ANLS 0), so run
// r scores floor(questions / (r + 1)) / questions. Used by test_desktop_at_scale and bench_gui.
#include "store/catalog.h"
#include "store/sql_util.h"
#include "store/workspace.h"

#include <QList>

namespace mpa::test {

inline QList<qint64> addEvaluatedBenchmark(const store::Workspace &ws, int questions, int runs)
{
    QList<qint64> ids;
    store::Catalog c(ws);
    for (int r = 0; r < runs; ++r)
        ids << c.createRun(store::RunKind::Evaluate, QStringLiteral("eval %1").arg(r),
                           {{QStringLiteral("dataset"), QStringLiteral("stvqa")}, {QStringLiteral("model"), QStringLiteral("/m/student-%1").arg(r)}},
                           store::RunStatus::Finished);
    QSqlDatabase db = ws.connection();
    store::Transaction tx(db, QStringLiteral("evaluated benchmark"));
    store::exec(db, QStringLiteral("WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < %1) "
                                   "INSERT INTO images(path, status, added_at) SELECT '/bench/img' || v || '.jpg', 'missing', 0 FROM n").arg(questions));
    store::exec(db, QStringLiteral("INSERT INTO benchmark_items(dataset, split, question_id, image_id, question, answers) "
                                   "SELECT 'stvqa', 'val', 'q' || id, id, 'what does line ' || id || ' say?', json_array('answer ' || id) "
                                   "FROM images WHERE path LIKE '/bench/img%' ORDER BY id")); // item v is image v
    for (int r = 0; r < runs; ++r)
        store::exec(db, QStringLiteral("INSERT INTO predictions(run_id, item_id, text, created_at) SELECT ?, id, "
                                       "CASE WHEN id % %1 = 0 THEN 'answer ' || id ELSE 'zzz' END, 0 FROM benchmark_items").arg(r + 1),
                    {ids[r]});
    tx.commit();
    return ids;
}

} // namespace mpa::test
