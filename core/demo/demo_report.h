#pragma once
// What MPA changed on the demo world, read back from the workspace's runs (so it is the same
// table whoever made the runs: `mpa demo run`, the CLI step by step, or the desktop app):
// one row per evaluated model (teacher, student before, every aligned student, labelled by its
// training selection and sample count), one column per demo benchmark.
#include "store/workspace.h"

#include <QList>
#include <QMap>
#include <QString>

namespace mpa::demo {

struct DemoReportRow
{
    QString label;
    QString model;          // the evaluated model folder
    qint64 alignRun = 0;    // the alignment run that produced it (0: teacher or student)
    qint64 trainSamples = -1; // -1: not trained by MPA
    QMap<QString, double> mpaAccuracy; // benchmark -> [0, 1]
    QMap<QString, double> official;    // benchmark -> the benchmark metric's mean
    QMap<QString, QString> metric;     // benchmark -> that metric's name
};

struct DemoReport
{
    QStringList benchmarks; // demo-text, demo-chart, demo-knowledge (those evaluated)
    QList<DemoReportRow> rows;
};

DemoReport demoReport(const store::Workspace &ws);
// A Markdown table of MPA accuracy (and one of the benchmark metrics), as README shows it.
QString formatDemoReport(const DemoReport &report);

// The metric each demo benchmark is scored with, after its real counterpart: text -> ANLS
// (ST-VQA), chart -> relaxed accuracy (ChartQA); knowledge -> MPA accuracy, since VQA accuracy
// needs ten human answers and the synthetic world has one exact answer.
QString demoMetricFor(const QString &family);

} // namespace mpa::demo
