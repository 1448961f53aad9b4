#include "thumbnail_cache.h"

#include <QDir>
#include <QFileInfo>
#include <QImageReader>

namespace mpa::ui {

ThumbnailCache::ThumbnailCache(QObject *parent)
    : QObject(parent)
{
    m_worker = QThread::create([this] { workerLoop(); });
    m_worker->setObjectName(QStringLiteral("mpa-thumbnails"));
    m_worker->start(QThread::LowPriority);
}

ThumbnailCache::~ThumbnailCache()
{
    {
        QMutexLocker lock(&m_mutex);
        m_stop = true;
    }
    m_wake.wakeAll();
    m_worker->wait();
    delete m_worker;
}

void ThumbnailCache::setCacheDir(const QString &dir)
{
    QMutexLocker lock(&m_mutex);
    m_dir = dir;
    m_queue.clear();
    m_pending.clear();
    m_memory.clear();
}

const QPixmap *ThumbnailCache::get(qint64 imageId, const QString &path, const QString &key)
{
    if (const QPixmap *p = m_memory.object(imageId))
        return p;
    QMutexLocker lock(&m_mutex);
    if (!m_pending.contains(imageId)) {
        m_pending.insert(imageId);
        m_queue.push_back({imageId, path, key});
        m_wake.wakeOne();
    }
    return nullptr;
}

QImage ThumbnailCache::produce(const Request &r) const
{
    const QString cached = m_dir.isEmpty() || r.key.isEmpty() ? QString() : QDir(m_dir).filePath(r.key.left(2) + QLatin1Char('/') + r.key + QStringLiteral(".jpg"));
    if (!cached.isEmpty() && QFileInfo::exists(cached)) {
        QImage img(cached);
        if (!img.isNull())
            return img;
    }
    QImageReader reader(r.path);
    reader.setAutoTransform(true);
    const QSize size = reader.size();
    if (size.isValid())
        reader.setScaledSize(size.scaled(kSize, kSize, Qt::KeepAspectRatio));
    QImage img = reader.read();
    if (img.isNull())
        return img;
    if (img.width() > kSize || img.height() > kSize)
        img = img.scaled(kSize, kSize, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    if (!cached.isEmpty()) {
        QDir().mkpath(QFileInfo(cached).absolutePath());
        img.save(cached, "JPG", 85);
    }
    return img;
}

void ThumbnailCache::workerLoop()
{
    for (;;) {
        Request r;
        {
            QMutexLocker lock(&m_mutex);
            while (m_queue.empty() && !m_stop)
                m_wake.wait(&m_mutex);
            if (m_stop)
                return;
            r = m_queue.back(); // newest first
            m_queue.pop_back();
        }
        const QImage img = produce(r);
        QMetaObject::invokeMethod(this, [this, id = r.imageId, img] {
            {
                QMutexLocker lock(&m_mutex);
                m_pending.remove(id);
            }
            m_memory.insert(id, new QPixmap(img.isNull() ? QPixmap() : QPixmap::fromImage(img)));
            Q_EMIT ready(id);
        }, Qt::QueuedConnection);
    }
}

} // namespace mpa::ui
