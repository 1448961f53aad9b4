#pragma once
#include <QString>
#include <functional>

namespace mpa {

// Called by long operations every few hundred items. `total` is -1 when unknown. Returning
// false asks the operation to stop after committing what it has (cancel).
using ProgressFn = std::function<bool(qint64 done, qint64 total, const QString &what)>;

inline bool reportProgress(const ProgressFn &fn, qint64 done, qint64 total, const QString &what)
{
    return fn ? fn(done, total, what) : true;
}

} // namespace mpa
