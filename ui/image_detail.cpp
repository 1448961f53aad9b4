#include "image_detail.h"

#include "image_pane.h"
#include "verdict_text.h"

#include "store/rows.h"
#include "store/sample_query.h"
#include "util/error.h"

#include <QDialogButtonBox>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

namespace mpa::ui {

ImageDetailDialog::ImageDetailDialog(const store::Workspace &ws, qint64 imageId, QWidget *parent)
    : QDialog(parent)
    , m_image(new ImagePane(this))
    , m_title(new QLabel(this))
    , m_samples(new QTableWidget(this))
{
    setAttribute(Qt::WA_DeleteOnClose);
    resize(900, 640);
    m_title->setWordWrap(true);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_samples->setObjectName(QStringLiteral("image-samples"));
    m_samples->setColumnCount(5);
    m_samples->setHorizontalHeaderLabels({tr("Task"), tr("Question"), tr("Answer"), tr("Outcome"), tr("Review")});
    m_samples->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_samples->verticalHeader()->hide();
    m_samples->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_samples->setSortingEnabled(true);
    // One image: a handful of rows, read here.
    QString path, status, benchmarks;
    try {
        QSqlDatabase db = ws.connection();
        const store::Rows img = store::readRows(db, QStringLiteral("SELECT path, status, width, height FROM images WHERE id = ?"), {imageId});
        if (!img.isEmpty()) {
            path = img.at(0, 0).toString();
            status = img.at(0, 1).toString();
            m_title->setText(tr("<b>%1</b><br>%2 × %3 · %4").arg(QFileInfo(path).fileName().toHtmlEscaped()).arg(img.at(0, 2).toInt()).arg(img.at(0, 3).toInt()).arg(path.toHtmlEscaped()));
        }
        const store::Rows bench = store::readRows(db, QStringLiteral("SELECT dataset, split, count(*) FROM benchmark_items WHERE image_id = ? GROUP BY 1, 2"), {imageId});
        QStringList parts;
        for (const QVariantList &r : bench.rows)
            parts << tr("%1/%2 (%3 questions)").arg(r.at(0).toString(), r.at(1).toString()).arg(r.at(2).toLongLong());
        if (!parts.isEmpty())
            benchmarks = tr("Benchmark image: %1 — evaluated on, never trained on.").arg(parts.join(QStringLiteral(", ")));
        store::SampleFilter f;
        f.imageId = imageId;
        const QList<store::SampleRow> rows = store::SampleQuery(ws).page(f, 0, 1000);
        m_samples->setSortingEnabled(false);
        m_samples->setRowCount(static_cast<int>(rows.size()));
        for (int i = 0; i < rows.size(); ++i) {
            const store::SampleRow &r = rows.at(i);
            const QStringList cells = {r.task, r.parsed ? r.question : tr("[parse failure] %1").arg(r.rawText.left(80)), r.answer, outcomeLabel(r.outcome),
                                       reviewLabel(r.reviewState)};
            for (int c = 0; c < cells.size(); ++c) {
                auto *item = new QTableWidgetItem(cells.at(c));
                if (c == 3)
                    item->setToolTip(outcomeExplanation(r.outcome));
                m_samples->setItem(i, c, item);
            }
        }
        m_samples->setSortingEnabled(true);
    } catch (const Error &e) {
        m_title->setText(e.message().toHtmlEscaped());
    }
    setWindowTitle(QFileInfo(path).fileName());
    m_image->showImage(path, status);
    auto *info = new QLabel(benchmarks, this);
    info->setWordWrap(true);
    info->setVisible(!benchmarks.isEmpty());
    auto *none = new QLabel(tr("No samples on this image yet: run the Pseudo Annotator (Home, step 2)."), this);
    none->setVisible(m_samples->rowCount() == 0);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    QPushButton *review = buttons->addButton(tr("Review these samples"), QDialogButtonBox::ActionRole);
    review->setObjectName(QStringLiteral("review-image"));
    review->setEnabled(m_samples->rowCount() > 0);
    connect(review, &QPushButton::clicked, this, [this, imageId] {
        Q_EMIT reviewRequested(imageId);
        accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_image);
    auto *bottom = new QWidget(this);
    auto *bl = new QVBoxLayout(bottom);
    bl->setContentsMargins(0, 0, 0, 0);
    bl->addWidget(info);
    bl->addWidget(none);
    bl->addWidget(m_samples);
    split->addWidget(bottom);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_title);
    layout->addWidget(split, 1);
    layout->addWidget(buttons);
}

int ImageDetailDialog::sampleCount() const
{
    return m_samples->rowCount();
}

} // namespace mpa::ui
