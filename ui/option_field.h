#pragma once
// One launcher field for one job option (jobs/job_options.h): the widget its type calls for,
// named after the option's flag (objectName), with the option's help as tooltip. Every field
// reads and writes the option's text as `mpa <kind> --flag TEXT` takes it, so a configuration
// round-trips through the launcher unchanged.
#include "jobs/job_options.h"

#include <QWidget>

class QComboBox;
class QLineEdit;

namespace mpa::ui {

class OptionField : public QWidget
{
    Q_OBJECT
public:
    // `suggestions`: values offered beside the typed text (registered models, benchmarks).
    OptionField(const jobs::JobOption &option, const QStringList &suggestions, QWidget *parent = nullptr);
    const jobs::JobOption &option() const { return m_option; }
    QString text() const;
    void setText(const QString &text);

Q_SIGNALS:
    void edited();

private:
    jobs::JobOption m_option;
    QComboBox *m_combo = nullptr;
    QLineEdit *m_line = nullptr;
};

} // namespace mpa::ui
