#pragma once
// The Images and Samples tables: what they select, read through RowTableModel (pages by key,
// every statement finished; see row_table_model.h).
#include "row_table_model.h"

namespace mpa::ui {

TableSpec imageTableSpec();
TableSpec sampleTableSpec();
// Runs, newest first (the Runs view).
TableSpec runTableSpec();

} // namespace mpa::ui
