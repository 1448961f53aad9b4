#include "image_pane.h"

#include <QApplication>
#include <QGraphicsPixmapItem>
#include <QGraphicsScene>
#include <QGraphicsView>
#include <QImageReader>
#include <QLabel>
#include <QPointer>
#include <QThread>
#include <QVBoxLayout>
#include <QWheelEvent>

namespace mpa::ui {

ImagePane::ImagePane(QWidget *parent)
    : QWidget(parent)
    , m_view(new QGraphicsView(this))
    , m_state(new QLabel(this))
{
    m_view->setScene(new QGraphicsScene(m_view));
    m_pixmap = m_view->scene()->addPixmap(QPixmap());
    m_pixmap->setTransformationMode(Qt::SmoothTransformation);
    m_view->setDragMode(QGraphicsView::ScrollHandDrag);
    m_view->setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    m_view->setMinimumSize(320, 240);
    m_view->viewport()->installEventFilter(this);
    m_state->setAlignment(Qt::AlignCenter);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_state);
}

bool ImagePane::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_view->viewport() && event->type() == QEvent::Wheel) {
        const double factor = static_cast<QWheelEvent *>(event)->angleDelta().y() > 0 ? 1.25 : 0.8;
        m_view->scale(factor, factor);
        return true;
    }
    if (watched == m_view->viewport() && event->type() == QEvent::MouseButtonDblClick) {
        m_view->fitInView(m_pixmap, Qt::KeepAspectRatio); // double-click: fit again
        return true;
    }
    return QWidget::eventFilter(watched, event);
}

void ImagePane::clear()
{
    ++m_request; // a decode still running is for nothing now
    m_pixmap->setPixmap(QPixmap());
    m_state->clear();
}

QString ImagePane::stateText() const
{
    return m_state->text();
}

void ImagePane::showImage(const QString &path, const QString &status)
{
    const quint64 request = ++m_request;
    const QSize target = m_view->viewport()->size() * 2; // decoded at up to twice the view: zoom stays sharp
    m_pixmap->setPixmap(QPixmap());
    m_state->setText(status == QLatin1String("ok") ? tr("loading…") : tr("image %1").arg(status));
    if (status != QLatin1String("ok"))
        return;
    QPointer<ImagePane> self(this);
    QThread *loader = QThread::create([self, request, path, target]() mutable {
        QImageReader reader(path);
        reader.setAutoTransform(true);
        const QSize size = reader.size();
        if (size.isValid())
            reader.setScaledSize(size.scaled(target, Qt::KeepAspectRatio)); // scaled decoding
        const QImage img = reader.read();
        // Delivered through the application object; the pane may be gone by then.
        QMetaObject::invokeMethod(qApp, [self = std::move(self), request, img] {
            if (!self || request != self->m_request)
                return;
            self->m_pixmap->setPixmap(QPixmap::fromImage(img));
            self->m_view->scene()->setSceneRect(self->m_pixmap->boundingRect());
            self->m_view->fitInView(self->m_pixmap, Qt::KeepAspectRatio);
            self->m_state->setText(img.isNull() ? tr("the image could not be decoded") : QString());
            Q_EMIT self->imageShown();
        }, Qt::QueuedConnection);
    });
    connect(loader, &QThread::finished, loader, &QObject::deleteLater);
    loader->start();
}

} // namespace mpa::ui
