#include "store/migrations.h"

#include "store/sql_util.h"
#include "util/error.h"

#include <QSqlError>
#include <QStringList>
#include <vector>

namespace mpa::store {

namespace {

struct Migration
{
    int version;
    const char *description;
    QStringList statements;
};

// Version 1: the tables. Times are milliseconds since the epoch (UTC).
Migration schemaV1()
{
    return {1, "initial schema", {
        QStringLiteral(R"(CREATE TABLE images(
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL CHECK(status IN ('ok','missing','corrupt','unreadable')),
            format TEXT,
            file_size INTEGER,
            width INTEGER,
            height INTEGER,
            sha256 TEXT,
            mtime INTEGER,
            error TEXT,
            added_at INTEGER NOT NULL))"),
        QStringLiteral("CREATE INDEX images_sha256 ON images(sha256)"),
        QStringLiteral(R"(CREATE TABLE models(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK(kind IN ('native','http','imported')),
            location TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL DEFAULT 'other' CHECK(role IN ('large','small','other')),
            params TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL))"),
        QStringLiteral(R"(CREATE TABLE task_prompts(
            task TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            prompt TEXT NOT NULL,
            updated_at INTEGER NOT NULL))"),
        QStringLiteral(R"(CREATE TABLE runs(
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK(kind IN ('import','annotate','identify','align','evaluate','export')),
            name TEXT NOT NULL DEFAULT '',
            params TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL CHECK(status IN ('queued','running','finished','failed','cancelled','interrupted')),
            created_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER,
            error TEXT))"),
        QStringLiteral(R"(CREATE TABLE metrics(
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            step INTEGER NOT NULL,
            value REAL NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY(run_id, name, step)) WITHOUT ROWID)"),
        QStringLiteral(R"(CREATE TABLE samples(
            id INTEGER PRIMARY KEY,
            image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
            task TEXT NOT NULL,
            question TEXT,
            answer TEXT,
            raw_text TEXT,
            parse_status TEXT NOT NULL CHECK(parse_status IN ('ok','failed')),
            model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
            run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
            source TEXT NOT NULL,
            source_key TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE(source, source_key)))"),
        QStringLiteral(R"(CREATE TABLE answers(
            id INTEGER PRIMARY KEY,
            sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
            model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            text TEXT,
            logprob REAL,
            latency_ms REAL,
            created_at INTEGER NOT NULL,
            UNIQUE(sample_id, model_id, run_id)))"),
        QStringLiteral(R"(CREATE TABLE verdicts(
            id INTEGER PRIMARY KEY,
            sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            l_correct INTEGER NOT NULL,
            s_correct INTEGER NOT NULL,
            outcome TEXT NOT NULL CHECK(outcome IN ('gap','both_right','s_only','both_wrong')),
            criterion TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE(sample_id, run_id)))"),
        // The review journal is append-only: the current decision is derived from it.
        QStringLiteral(R"(CREATE TABLE reviews(
            id INTEGER PRIMARY KEY,
            sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
            decision TEXT NOT NULL CHECK(decision IN ('approve','reject','clear')),
            question TEXT,
            answer TEXT,
            note TEXT,
            created_at INTEGER NOT NULL))"),
        QStringLiteral("CREATE INDEX reviews_sample ON reviews(sample_id, id)"),
        QStringLiteral(R"(CREATE TRIGGER reviews_no_update BEFORE UPDATE ON reviews
            BEGIN SELECT RAISE(ABORT, 'the review journal is append-only'); END)"),
        // Rows may only disappear with their sample (FK cascades run after the parent is gone).
        QStringLiteral(R"(CREATE TRIGGER reviews_no_delete BEFORE DELETE ON reviews
            WHEN EXISTS(SELECT 1 FROM samples WHERE id = OLD.sample_id)
            BEGIN SELECT RAISE(ABORT, 'the review journal is append-only'); END)"),
        QStringLiteral(R"(CREATE TABLE benchmark_items(
            id INTEGER PRIMARY KEY,
            dataset TEXT NOT NULL,
            split TEXT NOT NULL,
            question_id TEXT NOT NULL,
            image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
            question TEXT NOT NULL,
            answers TEXT NOT NULL,
            UNIQUE(dataset, split, question_id)))"),
        QStringLiteral(R"(CREATE TABLE predictions(
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            item_id INTEGER NOT NULL REFERENCES benchmark_items(id) ON DELETE CASCADE,
            model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
            text TEXT,
            latency_ms REAL,
            created_at INTEGER NOT NULL,
            UNIQUE(run_id, item_id)))"),
    }};
}

// Version 2: the current review state, edited pair and latest outcome cached on each sample
// (kept in step by triggers, back-filled here), so that listing and filtering a million
// samples is an index range scan instead of a correlated sub-query per row.
Migration schemaV2()
{
    return {2, "cached review state and outcome on samples", {
        QStringLiteral("ALTER TABLE samples ADD COLUMN review_state TEXT NOT NULL DEFAULT 'pending'"),
        QStringLiteral("ALTER TABLE samples ADD COLUMN reviewed_question TEXT"),
        QStringLiteral("ALTER TABLE samples ADD COLUMN reviewed_answer TEXT"),
        QStringLiteral("ALTER TABLE samples ADD COLUMN outcome TEXT"),
        QStringLiteral(R"(UPDATE samples SET review_state = COALESCE((
            SELECT CASE r.decision WHEN 'approve' THEN 'approved' WHEN 'reject' THEN 'rejected' ELSE 'pending' END
            FROM reviews r WHERE r.sample_id = samples.id ORDER BY r.id DESC LIMIT 1), 'pending'))"),
        QStringLiteral(R"(UPDATE samples SET
            reviewed_question = (SELECT r.question FROM reviews r WHERE r.sample_id = samples.id AND r.question IS NOT NULL ORDER BY r.id DESC LIMIT 1),
            reviewed_answer = (SELECT r.answer FROM reviews r WHERE r.sample_id = samples.id AND r.answer IS NOT NULL ORDER BY r.id DESC LIMIT 1))"),
        QStringLiteral(R"(UPDATE samples SET outcome =
            (SELECT v.outcome FROM verdicts v WHERE v.sample_id = samples.id ORDER BY v.id DESC LIMIT 1))"),
        QStringLiteral(R"(CREATE TRIGGER reviews_cache AFTER INSERT ON reviews BEGIN
            UPDATE samples SET
                review_state = CASE NEW.decision WHEN 'approve' THEN 'approved' WHEN 'reject' THEN 'rejected' ELSE 'pending' END,
                reviewed_question = COALESCE(NEW.question, reviewed_question),
                reviewed_answer = COALESCE(NEW.answer, reviewed_answer)
            WHERE id = NEW.sample_id; END)"),
        QStringLiteral(R"(CREATE TRIGGER verdicts_cache AFTER INSERT ON verdicts BEGIN
            UPDATE samples SET outcome = NEW.outcome WHERE id = NEW.sample_id; END)"),
        QStringLiteral("CREATE INDEX samples_outcome_review ON samples(outcome, review_state, id)"),
        QStringLiteral("CREATE INDEX samples_review ON samples(review_state, id)"),
        QStringLiteral("CREATE INDEX samples_task ON samples(task, id)"),
        QStringLiteral("CREATE INDEX samples_image ON samples(image_id)"),
        QStringLiteral("CREATE INDEX answers_sample ON answers(sample_id)"),
        QStringLiteral("CREATE INDEX verdicts_sample ON verdicts(sample_id)"),
        QStringLiteral("CREATE INDEX benchmark_items_dataset ON benchmark_items(dataset, split)"),
        QStringLiteral("CREATE INDEX predictions_item ON predictions(item_id)"),
    }};
}

// Version 3: a verdict goes stale when the reviewer edits the question or answer it judged
// (the models answered the old text). Stale samples show "re-identify" and the default training
// selections leave them out until a new Parity Identifier run judges the edited pair.
Migration schemaV3()
{
    return {3, "stale verdicts after edits", {
        QStringLiteral("ALTER TABLE samples ADD COLUMN verdict_stale INTEGER NOT NULL DEFAULT 0"),
        QStringLiteral(R"(UPDATE samples SET verdict_stale = 1 WHERE outcome IS NOT NULL AND
            (SELECT max(r.id) FROM reviews r WHERE r.sample_id = samples.id AND (r.question IS NOT NULL OR r.answer IS NOT NULL))
            IS NOT NULL AND
            (SELECT max(r.created_at) FROM reviews r WHERE r.sample_id = samples.id AND (r.question IS NOT NULL OR r.answer IS NOT NULL))
            > (SELECT max(v.created_at) FROM verdicts v WHERE v.sample_id = samples.id))"),
        QStringLiteral("DROP TRIGGER reviews_cache"),
        QStringLiteral(R"(CREATE TRIGGER reviews_cache AFTER INSERT ON reviews BEGIN
            UPDATE samples SET
                review_state = CASE NEW.decision WHEN 'approve' THEN 'approved' WHEN 'reject' THEN 'rejected' ELSE 'pending' END,
                reviewed_question = COALESCE(NEW.question, reviewed_question),
                reviewed_answer = COALESCE(NEW.answer, reviewed_answer),
                verdict_stale = CASE WHEN (NEW.question IS NOT NULL OR NEW.answer IS NOT NULL) AND outcome IS NOT NULL
                                     THEN 1 ELSE verdict_stale END
            WHERE id = NEW.sample_id; END)"),
        QStringLiteral("DROP TRIGGER verdicts_cache"),
        QStringLiteral(R"(CREATE TRIGGER verdicts_cache AFTER INSERT ON verdicts BEGIN
            UPDATE samples SET outcome = NEW.outcome, verdict_stale = 0 WHERE id = NEW.sample_id; END)"),
    }};
}

// Version 4: benchmark items by image. The image browser's dataset filter ("pool": images no
// benchmark uses; "chartqa": images one does) asks per image row; without this index each ask
// scanned the whole benchmark table: opening a workspace of 5,000 images and a 5,000-question
// benchmark stalled the GUI thread for 1.9 s (25 M row visits; bench_gui), 17 ms with it.
// And runs.revision, counted up by every rename, so that other processes see renames (the
// change watcher's runs signature sums it); run_parents, the runs an alignment's samples came
// from (the Runs view's "came from" used to list every earlier annotate and identify run).
Migration schemaV4()
{
    return {4, "benchmark items by image, run renames, run parents", {
        QStringLiteral("CREATE INDEX benchmark_items_image ON benchmark_items(image_id, dataset)"),
        QStringLiteral("ALTER TABLE runs ADD COLUMN revision INTEGER NOT NULL DEFAULT 0"),
        QStringLiteral(R"(CREATE TABLE run_parents(
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            parent_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            PRIMARY KEY(run_id, parent_id)) WITHOUT ROWID)"),
    }};
}

std::vector<Migration> allMigrations()
{
    return {schemaV1(), schemaV2(), schemaV3(), schemaV4()};
}

} // namespace

int readSchemaVersion(QSqlDatabase &db)
{
    return scalar(db, QStringLiteral("PRAGMA user_version")).toInt();
}

void migrate(QSqlDatabase &db, const QString &displayName, int target)
{
    const int current = readSchemaVersion(db);
    for (const Migration &step : allMigrations()) {
        if (step.version <= current || step.version > target)
            continue;
        Transaction tx(db, QStringLiteral("migration to schema %1").arg(step.version));
        try {
            for (const QString &sql : step.statements)
                exec(db, sql);
            exec(db, QStringLiteral("PRAGMA user_version = %1").arg(step.version));
            if (step.version == 1)
                exec(db, QStringLiteral("PRAGMA application_id = %1").arg(kApplicationId));
            tx.commit();
        } catch (const Error &e) {
            throw Error(QStringLiteral("%1: migrating to schema %2 (%3) failed, the workspace is unchanged: %4")
                            .arg(displayName)
                            .arg(step.version)
                            .arg(QString::fromLatin1(step.description), e.message()));
        }
    }
}

} // namespace mpa::store
