#include "empty_state.h"

#include <QAbstractItemView>
#include <QEvent>
#include <QLabel>
#include <QPointer>

namespace mpa::ui {

namespace {

// Keeps the label over the whole viewport as it resizes.
class EmptyStateLabel : public QLabel
{
public:
    EmptyStateLabel(QWidget *viewport)
        : QLabel(viewport)
    {
        setObjectName(QStringLiteral("empty-state"));
        setAlignment(Qt::AlignCenter);
        setWordWrap(true);
        setMargin(24);
        setAttribute(Qt::WA_TransparentForMouseEvents);
        setForegroundRole(QPalette::PlaceholderText);
        viewport->installEventFilter(this);
        setGeometry(viewport->rect());
    }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (event->type() == QEvent::Resize)
            setGeometry(static_cast<QWidget *>(watched)->rect());
        return false;
    }
};

} // namespace

void attachEmptyState(QAbstractItemView *view, std::function<QString()> message)
{
    auto *label = new EmptyStateLabel(view->viewport());
    auto update = [view, label, message] {
        const bool empty = !view->model() || view->model()->rowCount() == 0;
        if (empty)
            label->setText(message());
        label->setVisible(empty);
    };
    auto connectModel = [view, update] {
        if (QAbstractItemModel *m = view->model()) {
            QObject::connect(m, &QAbstractItemModel::modelReset, view, update);
            QObject::connect(m, &QAbstractItemModel::layoutChanged, view, update);
            QObject::connect(m, &QAbstractItemModel::rowsInserted, view, update);
            QObject::connect(m, &QAbstractItemModel::rowsRemoved, view, update);
        }
    };
    connectModel();
    update();
}

} // namespace mpa::ui
