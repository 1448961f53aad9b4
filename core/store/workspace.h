#pragma once
// A workspace is a folder NAME.mpaw/ holding workspace.sqlite (the single source of truth),
// thumbnails/ (a disposable cache) and runs/ (checkpoints and logs of runs).
//
// The database is SQLite in WAL mode with foreign keys on. Each thread that touches the
// workspace gets its own connection (SQLite connections must not be shared across threads);
// Workspace is a cheap, copyable handle that can be handed to worker threads.
#include <QSqlDatabase>
#include <QString>
#include <memory>

namespace mpa::store {

enum class OpenMode { ReadWrite, ReadOnly };

class Workspace
{
public:
    static constexpr const char *kSuffix = ".mpaw";
    static constexpr const char *kDatabaseName = "workspace.sqlite";

    // Creates a new workspace folder (".mpaw" is appended when missing). Refuses to overwrite
    // an existing workspace.
    static Workspace create(const QString &path);
    // Opens an existing workspace; a workspace with an older schema is migrated (ReadWrite
    // only), one from a newer version of MPA Studio is refused.
    static Workspace open(const QString &path, OpenMode mode = OpenMode::ReadWrite);
    // Opens when the folder holds a workspace, creates it otherwise.
    static Workspace openOrCreate(const QString &path);

    Workspace(const Workspace &) = default;
    Workspace &operator=(const Workspace &) = default;
    ~Workspace();

    QString root() const;
    QString databasePath() const;
    QString thumbnailDir() const;
    QString runsDir() const;
    bool isReadOnly() const;
    int schemaVersion() const;

    // This thread's connection, opened (with the per-connection pragmas) on first use.
    QSqlDatabase connection() const;
    // Closes this thread's connection; worker threads call it before they finish so that a
    // long-lived workspace does not accumulate connections of dead threads.
    void releaseThreadConnection() const;
    // Throws a clear error when the workspace was opened read-only; call before writing.
    void requireWritable(const QString &action) const;

    struct State;

private:
    explicit Workspace(std::shared_ptr<State> state);
    QString connectionName() const;
    std::shared_ptr<State> m_state;
};

// Resolves "foo" to "foo.mpaw" unless the path already names a workspace folder.
QString normaliseWorkspacePath(const QString &path);

} // namespace mpa::store
