#pragma once
// One image from the Browser: the picture (zoom with the wheel, drag to pan), its benchmark
// questions when it belongs to one, and every sample on it with its outcome and review, and a
// button that opens exactly these samples in Review.
#include "store/workspace.h"

#include <QDialog>

class QLabel;
class QTableWidget;

namespace mpa::ui {

class ImagePane;

class ImageDetailDialog : public QDialog
{
    Q_OBJECT
public:
    ImageDetailDialog(const store::Workspace &ws, qint64 imageId, QWidget *parent = nullptr);
    int sampleCount() const;

Q_SIGNALS:
    void reviewRequested(qint64 imageId);

private:
    ImagePane *m_image;
    QLabel *m_title;
    QTableWidget *m_samples;
};

} // namespace mpa::ui
