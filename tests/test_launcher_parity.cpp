// The desktop's launchers and `mpa <kind>` offer the same options: the flags `mpa <kind> --help`
// lists (read from the real binary, so an option added to the CLI by hand fails here) are the
// launcher's fields plus --config / --save-config (the launcher's Load/Save buttons) and
// --resume (the Runs menu). A configuration saved by the launcher is read by `mpa <kind>
// --config` into the same settings, and every preset survives the launcher unchanged.
#include "job_launcher.h"
#include "jobs/job_options.h"
#include "option_field.h"
#include "test_support.h"
#include "util/json_file.h"

#include <QJsonDocument>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

using namespace mpa;

namespace {

QSet<QString> cliFlags(const QString &kind)
{
    QProcess p;
    p.start(test::cliPath(), {kind, QStringLiteral("--help")});
    p.waitForFinished(60000);
    const QString help = QString::fromUtf8(p.readAllStandardOutput());
    QSet<QString> flags;
    static const QRegularExpression option(QStringLiteral("^\\s+(?:-\\w, )?--([a-z0-9-]+)"), QRegularExpression::MultilineOption);
    for (auto it = option.globalMatch(help); it.hasNext();)
        flags.insert(it.next().captured(1));
    return flags;
}

} // namespace

class TestLauncherParity : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void everyCliOptionIsInTheLauncherAndBack_data();
    void everyCliOptionIsInTheLauncherAndBack();
    void aSavedLauncherConfigurationRunsTheSameFromTheCli_data();
    void aSavedLauncherConfigurationRunsTheSameFromTheCli();
    void presetsSurviveTheLauncher();
    void badValuesAreRefusedByName();
};

void TestLauncherParity::everyCliOptionIsInTheLauncherAndBack_data()
{
    QTest::addColumn<int>("kind");
    for (jobs::JobKind k : jobs::allJobKinds())
        QTest::newRow(qPrintable(jobs::jobKindName(k))) << static_cast<int>(k);
}

void TestLauncherParity::everyCliOptionIsInTheLauncherAndBack()
{
    QFETCH(int, kind);
    const auto k = static_cast<jobs::JobKind>(kind);
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    ui::JobLauncherDialog dialog(ws, k);
    const QStringList flags = dialog.optionFlags();
    QSet<QString> gui(flags.begin(), flags.end());
    QVERIFY(dialog.findChild<QPushButton *>(QStringLiteral("load-config")));
    QVERIFY(dialog.findChild<QPushButton *>(QStringLiteral("save-config")));
    gui << QStringLiteral("config") << QStringLiteral("save-config") << QStringLiteral("resume") << QStringLiteral("help") << QStringLiteral("help-all"); // Qt's own
    QSet<QString> cli = cliFlags(jobs::jobKindName(k));
    QVERIFY2(cli.size() > 8, qPrintable(QStringList(cli.values()).join(QLatin1Char(' '))));
    if (k == jobs::JobKind::Evaluate)
        cli.remove(QStringLiteral("compare")); // a report over two finished runs: the Evaluation view's flip table
    const QSet<QString> onlyCli = cli - gui, onlyGui = gui - cli;
    QVERIFY2(onlyCli.isEmpty(), qPrintable(QStringLiteral("only in mpa %1: %2").arg(jobs::jobKindName(k), QStringList(onlyCli.values()).join(QLatin1Char(' ')))));
    QVERIFY2(onlyGui.isEmpty(), qPrintable(QStringLiteral("only in the launcher: %1").arg(QStringList(onlyGui.values()).join(QLatin1Char(' ')))));
}

void TestLauncherParity::aSavedLauncherConfigurationRunsTheSameFromTheCli_data()
{
    everyCliOptionIsInTheLauncherAndBack_data();
}

void TestLauncherParity::aSavedLauncherConfigurationRunsTheSameFromTheCli()
{
    QFETCH(int, kind);
    const auto k = static_cast<jobs::JobKind>(kind);
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    ui::JobLauncherDialog dialog(ws, k);
    // Non-default values in a few fields of different types.
    for (const jobs::JobOption &o : jobs::jobOptions(k)) {
        ui::OptionField *f = dialog.field(o.flag);
        switch (o.type) {
        case jobs::OptionType::Model: f->setText(tmp.filePath(o.flag)); break;
        case jobs::OptionType::Integer: f->setText(QString::number(static_cast<qint64>(std::min(o.maximum, o.minimum + 3)))); break;
        case jobs::OptionType::Number: f->setText(QString::number(o.minimum + (o.maximum - o.minimum) / 4, 'g', 12)); break;
        case jobs::OptionType::Pixels: f->setText(QStringLiteral("model")); break;
        case jobs::OptionType::Choice: f->setText(o.choices.last()); break;
        case jobs::OptionType::Text: f->setText(QStringLiteral("value-") + o.flag); break;
        default: break;
        }
    }
    const QJsonObject fromGui = dialog.configuration();
    const QString saved = tmp.filePath(QStringLiteral("gui.json")), resaved = tmp.filePath(QStringLiteral("cli.json"));
    QVERIFY(dialog.saveConfigurationFile(saved));
    QProcess p;
    p.start(test::cliPath(), {jobs::jobKindName(k), ws.root(), QStringLiteral("--config"), saved, QStringLiteral("--save-config"), resaved});
    QVERIFY(p.waitForFinished(60000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    QCOMPARE(json::readFile(resaved).object(), fromGui);
    // And back: the launcher shows what the file holds.
    ui::JobLauncherDialog reopened(ws, k);
    QVERIFY(reopened.loadConfigurationFile(resaved));
    QCOMPARE(reopened.configuration(), fromGui);
}

void TestLauncherParity::presetsSurviveTheLauncher()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    for (jobs::JobKind k : jobs::allJobKinds()) {
        const QList<jobs::JobPreset> presets = jobs::jobPresets(k);
        QVERIFY(presets.size() >= 2);
        for (const jobs::JobPreset &preset : presets) {
            ui::JobLauncherDialog dialog(ws, k);
            const QJsonObject expected = jobs::runConfiguration(k, {}, preset.settings);
            dialog.applyConfiguration(expected);
            QCOMPARE(dialog.configuration(), expected);
        }
    }
    // The demo preset is what the demo loop trains with (lr 3e-4 x 20 epochs, instructed).
    const QJsonObject demo = jobs::runConfiguration(jobs::JobKind::Align, {}, jobs::jobPresets(jobs::JobKind::Align).at(1).settings);
    QCOMPARE(demo.value(QStringLiteral("lr_llm")).toDouble(), 3e-4);
    QCOMPARE(demo.value(QStringLiteral("epochs")).toInt(), 20);
    QCOMPARE(demo.value(QStringLiteral("train_prompt")).toString(), QStringLiteral("instructed"));
}

void TestLauncherParity::badValuesAreRefusedByName()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    ui::JobLauncherDialog dialog(ws, jobs::JobKind::Align);
    dialog.field(QStringLiteral("lr"))->setText(QStringLiteral("fast"));
    QVERIFY(dialog.refusal().contains(QLatin1String("--lr")));
    QProcess p;
    p.start(test::cliPath(), {QStringLiteral("align"), ws.root(), QStringLiteral("--lr"), QStringLiteral("fast"), QStringLiteral("--model"), QStringLiteral("x")});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 2);
    QVERIFY(p.readAllStandardError().contains("--lr"));
}

QTEST_MAIN(TestLauncherParity)
#include "test_launcher_parity.moc"
