#pragma once
// What an empty view says: a centred line over the view's viewport, shown while its model has
// no rows ("No samples yet: run the Pseudo Annotator (Home > 2)"), so an empty table or list is
// never just blank. The message is a function: it can name the filter that matched nothing.
#include <QString>

#include <functional>

class QAbstractItemView;

namespace mpa::ui {

void attachEmptyState(QAbstractItemView *view, std::function<QString()> message);

} // namespace mpa::ui
