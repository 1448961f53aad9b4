#pragma once
// Read-only table models over a workspace, fetched in pages as the view scrolls
// (QSqlQueryModel's fetchMore), so a large workspace opens at once.
#include "store/workspace.h"

#include <QSqlQueryModel>

namespace mpa::ui {

class ImageTableModel : public QSqlQueryModel
{
    Q_OBJECT
public:
    explicit ImageTableModel(QObject *parent = nullptr);
    void load(const store::Workspace &ws);
};

class SampleTableModel : public QSqlQueryModel
{
    Q_OBJECT
public:
    explicit SampleTableModel(QObject *parent = nullptr);
    void load(const store::Workspace &ws);
};

} // namespace mpa::ui
