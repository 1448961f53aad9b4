#pragma once
// An image to inspect: fitted to the view, zoom with the wheel, pan by dragging, double-click
// to fit again. Decoded off the GUI thread at up to twice the view's size (scaled decoding, so
// a 20-megapixel photo costs what a thumbnail does); a late result for an earlier request is
// dropped. Shared by the review inspector and the evaluation view's question detail.
#include <QWidget>

class QGraphicsPixmapItem;
class QGraphicsView;
class QLabel;

namespace mpa::ui {

class ImagePane : public QWidget
{
    Q_OBJECT
public:
    explicit ImagePane(QWidget *parent = nullptr);
    // `status` is the workspace's image status: anything but "ok" is shown instead of decoding.
    void showImage(const QString &path, const QString &status);
    void clear();
    // What the pane says under the image ("loading…", "image missing", a decode failure; empty
    // when the image is shown).
    QString stateText() const;

Q_SIGNALS:
    void imageShown(); // a decode finished (successfully or not) for the current request

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    QGraphicsView *m_view;
    QGraphicsPixmapItem *m_pixmap = nullptr;
    QLabel *m_state;
    quint64 m_request = 0;
};

} // namespace mpa::ui
