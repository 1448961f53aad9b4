#pragma once
// Versioned schema migrations. The schema version lives in SQLite's user_version and the
// file is marked with application_id 'MPAW' so a random SQLite file is never mistaken for a
// workspace. Each step runs in its own transaction: a failure leaves the previous version.
#include <QSqlDatabase>
#include <QString>

namespace mpa::store {

inline constexpr int kSchemaVersion = 4;
inline constexpr int kApplicationId = 0x4D504157; // "MPAW"

int readSchemaVersion(QSqlDatabase &db);
// Brings the database from its current version to `target` (default: this build's version).
// Tests use a lower target to build workspaces as older releases wrote them.
void migrate(QSqlDatabase &db, const QString &displayName, int target = kSchemaVersion);

} // namespace mpa::store
