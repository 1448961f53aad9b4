#pragma once
// Thumbnails decoded on a worker thread with scaled decoding (a JPEG decodes at 1/8 size
// without touching full-resolution pixels), kept in memory (QCache) and on disk in the
// workspace's thumbnails/ folder. Requests are served newest first: the images just scrolled
// into view come before the ones that scrolled past.
#include <QCache>
#include <QImage>
#include <QMutex>
#include <QObject>
#include <QPixmap>
#include <QSet>
#include <QThread>
#include <QWaitCondition>
#include <deque>

namespace mpa::ui {

class ThumbnailCache : public QObject
{
    Q_OBJECT
public:
    static constexpr int kSize = 144;

    explicit ThumbnailCache(QObject *parent = nullptr);
    ~ThumbnailCache() override;

    void setCacheDir(const QString &dir);
    // The thumbnail if it is in memory; otherwise nullptr and a request is queued.
    const QPixmap *get(qint64 imageId, const QString &path, const QString &key);

Q_SIGNALS:
    void ready(qint64 imageId);

private:
    struct Request
    {
        qint64 imageId;
        QString path;
        QString key; // content hash: the disk cache survives renames
    };
    void workerLoop();
    QImage produce(const Request &r) const;

    QString m_dir;
    QCache<qint64, QPixmap> m_memory{4000};
    QMutex m_mutex;
    QWaitCondition m_wake;
    std::deque<Request> m_queue;
    QSet<qint64> m_pending;
    bool m_stop = false;
    QThread *m_worker = nullptr;
};

} // namespace mpa::ui
