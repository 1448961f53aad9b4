#include "store/workspace.h"

#include "store/migrations.h"
#include "store/sql_util.h"
#include "util/error.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QUrl>
#include <QMutex>
#include <QSqlError>
#include <QThread>
#include <QUuid>
#include <QVector>
#include <atomic>

namespace mpa::store {

struct Workspace::State
{
    QString root;
    bool readOnly = false;
    QString connectionPrefix = QStringLiteral("mpa-ws-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    QMutex mutex;
    QVector<QString> connectionNames;

    ~State()
    {
        // Workspace never hands out QSqlDatabase handles that outlive a call, so every
        // connection is idle here; removing one that belonged to another (finished) thread
        // is allowed as long as nobody fetches it first.
        for (const QString &name : std::as_const(connectionNames))
            QSqlDatabase::removeDatabase(name);
    }
};

namespace {

QString dbPath(const QString &root)
{
    return QDir(root).filePath(QString::fromLatin1(Workspace::kDatabaseName));
}

void applyConnectionPragmas(QSqlDatabase &db, bool readOnly)
{
    // busy_timeout: a worker's batch commit and a person's review may meet; wait, don't fail.
    exec(db, QStringLiteral("PRAGMA busy_timeout = 5000"));
    exec(db, QStringLiteral("PRAGMA foreign_keys = ON"));
    if (!readOnly) {
        // WAL + synchronous=NORMAL: every commit survives a crash or kill -9 of the process;
        // only an OS crash or power loss can lose the last few commits. FULL would add an
        // fsync per review (measured in tests/bench/bench_store).
        exec(db, QStringLiteral("PRAGMA synchronous = NORMAL"));
    }
    exec(db, QStringLiteral("PRAGMA temp_store = MEMORY"));
}

QSqlDatabase openConnection(const QString &name, const QString &path, bool readOnly, const QString &root)
{
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
    db.setDatabaseName(path);
    if (readOnly) {
        // A WAL database is read through its -shm file, which SQLite must be able to create:
        // on read-only media or a folder owned by someone else every read then fails with
        // "attempt to write a readonly database". When nothing can write there (the folder
        // and the file are not writable and no -wal is pending), the file cannot change while
        // we read it, so it is opened immutable: no locks, no -shm.
        const QFileInfo file(path), wal(path + QStringLiteral("-wal"));
        const bool frozen = !file.isWritable() && !QFileInfo(file.absolutePath()).isWritable() && (!wal.exists() || wal.size() == 0)
                            && !QFileInfo::exists(path + QStringLiteral("-shm"));
        if (frozen) {
            QUrl uri = QUrl::fromLocalFile(path);
            uri.setQuery(QStringLiteral("immutable=1&mode=ro"));
            db.setDatabaseName(uri.toString(QUrl::FullyEncoded));
            db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_OPEN_URI"));
        } else {
            db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY"));
        }
    }
    if (!db.open())
        throw Error(QStringLiteral("%1: cannot open the workspace database: %2").arg(root, db.lastError().text()));
    applyConnectionPragmas(db, readOnly);
    return db;
}

void checkIdentity(QSqlDatabase &db, const QString &root)
{
    // A file that is not SQLite fails at the first statement; report it as such.
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("PRAGMA application_id")) || !q.next())
        throw Error(QStringLiteral("%1 is not a usable workspace: its %2 is damaged or is not a database (%3). Nothing was changed; "
                                   "restore the file from a backup or create a new workspace.")
                        .arg(root, QString::fromLatin1(Workspace::kDatabaseName), q.lastError().databaseText().isEmpty() ? q.lastError().text()
                                                                                                                         : q.lastError().databaseText()));
    const int appId = q.value(0).toInt();
    const int version = readSchemaVersion(db);
    if (appId != kApplicationId && (appId != 0 || version != 0))
        throw Error(QStringLiteral("%1: the database is not an MPA Studio workspace (application id %2)")
                        .arg(root)
                        .arg(appId));
    if (version > kSchemaVersion)
        throw Error(QStringLiteral("%1: this workspace was written by a newer MPA Studio (schema %2; this build "
                                   "understands up to %3). Open it with a newer version; nothing was changed.")
                        .arg(root)
                        .arg(version)
                        .arg(kSchemaVersion));
}

} // namespace

QString normaliseWorkspacePath(const QString &path)
{
    QString p = QDir::cleanPath(QFileInfo(path).absoluteFilePath());
    if (!p.endsWith(QLatin1String(Workspace::kSuffix)) && !QFileInfo::exists(dbPath(p)))
        p += QLatin1String(Workspace::kSuffix);
    return p;
}

Workspace::Workspace(std::shared_ptr<State> state)
    : m_state(std::move(state))
{
}

Workspace::~Workspace() = default;

Workspace Workspace::create(const QString &path)
{
    const QString root = normaliseWorkspacePath(path);
    if (QFileInfo::exists(dbPath(root)))
        throw Error(QStringLiteral("%1: a workspace already exists here").arg(root));
    QDir dir;
    for (const QString &sub : QStringList{root, root + QStringLiteral("/thumbnails"), root + QStringLiteral("/runs")}) {
        if (!dir.mkpath(sub))
            throw Error(QStringLiteral("%1: cannot create folder %2 (permissions or disk full?)").arg(root, sub));
    }
    {
        auto state = std::make_shared<State>();
        state->root = root;
        Workspace ws(state);
        QSqlDatabase db = ws.connection();
        exec(db, QStringLiteral("PRAGMA journal_mode = WAL"));
        migrate(db, root);
    }
    return open(root);
}

Workspace Workspace::open(const QString &path, OpenMode mode)
{
    const QString root = normaliseWorkspacePath(path);
    const QString file = dbPath(root);
    const QFileInfo info(file);
    if (!QFileInfo(root).isDir()) {
        // Messages name what the person chose, not the ".mpaw" path we derived from it.
        const QFileInfo given(path);
        if (given.isDir())
            throw Error(QStringLiteral("%1 is an ordinary folder, not an MPA Studio workspace. To work on its images, create a workspace "
                                       "(Workspace > New) and import this folder into it (Workspace > Import image folder).")
                            .arg(QDir::toNativeSeparators(given.absoluteFilePath())));
        throw Error(QStringLiteral("%1: there is no workspace here").arg(QDir::toNativeSeparators(given.absoluteFilePath())));
    }
    if (!info.exists())
        throw Error(QStringLiteral("%1: not a workspace (no %2 inside)").arg(root, QString::fromLatin1(kDatabaseName)));
    // Something else under the database's name fails deep in SQLite ("file is not a database"
    // at the first PRAGMA); its header says so before any connection is made.
    if (QFile f(file); info.size() > 0 && f.open(QIODevice::ReadOnly) && f.read(16) != QByteArray("SQLite format 3\0", 16))
        throw Error(QStringLiteral("%1 is not a usable workspace: its %2 is damaged or is not a database. Nothing was changed; restore the "
                                   "file from a backup or create a new workspace.").arg(root, QString::fromLatin1(kDatabaseName)));
    if (mode == OpenMode::ReadWrite && (!info.isWritable() || !QFileInfo(root).isWritable()))
        throw Error(QStringLiteral("%1: the workspace is read-only (file permissions); open it read-only to browse it").arg(root));

    auto state = std::make_shared<State>();
    state->root = root;
    state->readOnly = mode == OpenMode::ReadOnly;
    Workspace ws(state);
    QSqlDatabase db = ws.connection();
    checkIdentity(db, root);
    const int version = readSchemaVersion(db);
    if (version < kSchemaVersion) {
        if (state->readOnly)
            throw Error(QStringLiteral("%1: the workspace uses schema %2 and must be upgraded to %3; open it "
                                       "read-write once to migrate it").arg(root).arg(version).arg(kSchemaVersion));
        migrate(db, root);
    }
    return ws;
}

Workspace Workspace::openOrCreate(const QString &path)
{
    const QString root = normaliseWorkspacePath(path);
    return QFileInfo::exists(dbPath(root)) ? open(root) : create(root);
}

QString Workspace::root() const { return m_state->root; }
QString Workspace::databasePath() const { return dbPath(m_state->root); }
QString Workspace::thumbnailDir() const { return m_state->root + QStringLiteral("/thumbnails"); }
QString Workspace::runsDir() const { return m_state->root + QStringLiteral("/runs"); }
bool Workspace::isReadOnly() const { return m_state->readOnly; }

int Workspace::schemaVersion() const
{
    QSqlDatabase db = connection();
    return readSchemaVersion(db);
}

namespace {
// A number per thread that is never reused (thread addresses and ids are), so a new thread
// can never pick up the connection a finished thread left behind.
quint64 threadSerial()
{
    static std::atomic<quint64> counter{0};
    thread_local const quint64 serial = ++counter;
    return serial;
}
} // namespace

QString Workspace::connectionName() const
{
    return m_state->connectionPrefix + QStringLiteral("-") + QString::number(threadSerial());
}

void Workspace::releaseThreadConnection() const
{
    const QString name = connectionName();
    if (!QSqlDatabase::contains(name))
        return;
    QSqlDatabase::removeDatabase(name);
    QMutexLocker lock(&m_state->mutex);
    m_state->connectionNames.removeAll(name);
}

QSqlDatabase Workspace::connection() const
{
    const QString name = connectionName();
    if (QSqlDatabase::contains(name))
        return QSqlDatabase::database(name, false);
    QSqlDatabase db = openConnection(name, databasePath(), m_state->readOnly, m_state->root);
    QMutexLocker lock(&m_state->mutex);
    m_state->connectionNames.append(name);
    return db;
}

void Workspace::requireWritable(const QString &action) const
{
    if (m_state->readOnly)
        throw Error(QStringLiteral("%1: cannot %2: the workspace is open read-only").arg(m_state->root, action));
}

} // namespace mpa::store
