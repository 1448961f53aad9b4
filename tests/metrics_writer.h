#pragma once
// A second process writing to a workspace like `mpa align` does: one align run, a loss and an
// lr row every `intervalMs` in their own transaction (created_at = the commit time), then the
// run finished. test_desktop_at_scale and bench_gui start their own executable again with
// `--metrics-writer WS SECONDS` and call this; it prints "run N" on stdout once the run exists.
#include "pipeline/run_scope.h"
#include "store/catalog.h"
#include "store/sql_util.h"
#include "store/workspace.h"
#include "util/error.h"

#include <QElapsedTimer>
#include <QThread>
#include <cstdio>
#include <cstring>

namespace mpa::test {

inline int runMetricsWriter(const QString &path, int seconds, int intervalMs = 100)
{
    try {
        const store::Workspace ws = store::Workspace::open(path);
        // A RunScope, as every job: it holds the run's lock file, so a GUI that opens the
        // workspace meanwhile sees a live run, not an interrupted one.
        pipeline::RunScope scope(ws, store::RunKind::Align, QStringLiteral("terminal align"), {}, 0);
        const qint64 run = scope.id();
        store::Catalog c(ws);
        std::printf("run %lld\n", static_cast<long long>(run));
        std::fflush(stdout);
        QElapsedTimer clock;
        clock.start();
        for (int step = 1; clock.elapsed() < seconds * 1000; ++step) {
            QSqlDatabase db = ws.connection();
            store::Transaction tx(db, QStringLiteral("metrics"));
            c.addMetric(run, QStringLiteral("loss"), step, 5.0 / step);
            c.addMetric(run, QStringLiteral("lr"), step, 1e-5);
            tx.commit();
            QThread::msleep(static_cast<unsigned long>(intervalMs));
        }
        scope.finish(false);
    } catch (const Error &e) {
        std::fprintf(stderr, "metrics writer: %s\n", qPrintable(e.message()));
        return 1;
    }
    return 0;
}

// True when argv asks for the writer (argv[1] == "--metrics-writer", then WS and SECONDS).
inline bool isMetricsWriterCall(int argc, char **argv)
{
    return argc >= 4 && std::strcmp(argv[1], "--metrics-writer") == 0;
}

} // namespace mpa::test
