#pragma once
// Runs `work` on a fresh thread and hands its result to `then` on the GUI thread, unless
// `context` was destroyed meanwhile. `work` must not touch widgets; where it reads the
// workspace it calls Workspace::releaseThreadConnection() before returning (SQLite
// connections are per thread, and a dead thread's would otherwise stay open).
#include <QApplication>
#include <QPointer>
#include <QThread>

namespace mpa::ui {

template<typename Work, typename Then>
void offThread(QObject *context, Work work, Then then)
{
    QPointer<QObject> guard(context);
    QThread *t = QThread::create([guard, work, then]() mutable {
        auto result = work();
        QMetaObject::invokeMethod(qApp, [guard = std::move(guard), then, result = std::move(result)]() mutable {
            if (guard)
                then(result);
        }, Qt::QueuedConnection);
    });
    QObject::connect(t, &QThread::finished, t, &QObject::deleteLater);
    t->start();
}

} // namespace mpa::ui
