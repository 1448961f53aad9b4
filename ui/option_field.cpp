#include "option_field.h"

#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QToolButton>

namespace mpa::ui {

OptionField::OptionField(const jobs::JobOption &option, const QStringList &suggestions, QWidget *parent)
    : QWidget(parent)
    , m_option(option)
{
    setObjectName(option.flag);
    auto *row = new QHBoxLayout(this);
    row->setContentsMargins(0, 0, 0, 0);
    using jobs::OptionType;
    switch (option.type) {
    case OptionType::Choice:
        m_combo = new QComboBox(this);
        for (const QString &c : option.choices)
            m_combo->addItem(c.isEmpty() ? tr("(default)") : c, c);
        break;
    case OptionType::Model:
    case OptionType::Device:
    case OptionType::Pixels:
        m_combo = new QComboBox(this);
        m_combo->setEditable(true);
        m_combo->setInsertPolicy(QComboBox::NoInsert);
        if (option.type == OptionType::Device)
            m_combo->addItems({QStringLiteral("cpu"), QStringLiteral("cuda")});
        if (option.type == OptionType::Pixels)
            m_combo->addItems({QStringLiteral("model"), QString::number(128 * 28 * 28), QString::number(512 * 28 * 28)});
        m_combo->addItems(suggestions);
        if (option.type == OptionType::Model)
            m_combo->lineEdit()->setPlaceholderText(tr("model folder or http(s)://host:port/v1"));
        break;
    default:
        if (!suggestions.isEmpty()) {
            m_combo = new QComboBox(this);
            m_combo->setEditable(true);
            m_combo->setInsertPolicy(QComboBox::NoInsert);
            m_combo->addItems(suggestions);
        } else {
            m_line = new QLineEdit(this);
            if (option.type == OptionType::Integer || option.type == OptionType::Number)
                m_line->setPlaceholderText(tr("%1 to %2").arg(option.minimum, 0, 'g', 6).arg(option.maximum, 0, 'g', 6));
            if (option.type == OptionType::FlagSet)
                m_line->setPlaceholderText(option.choices.join(QLatin1Char(',')));
        }
    }
    QWidget *editor = m_combo ? static_cast<QWidget *>(m_combo) : m_line;
    editor->setToolTip(option.help);
    row->addWidget(editor, 1);
    if (m_combo) {
        connect(m_combo, &QComboBox::currentTextChanged, this, &OptionField::edited);
        if (m_combo->isEditable())
            connect(m_combo->lineEdit(), &QLineEdit::textEdited, this, &OptionField::edited);
    } else {
        connect(m_line, &QLineEdit::textChanged, this, &OptionField::edited);
    }
    if (option.type == OptionType::Model) {
        auto *browse = new QToolButton(this);
        browse->setText(QStringLiteral("…"));
        browse->setToolTip(tr("Choose a model folder"));
        row->addWidget(browse);
        connect(browse, &QToolButton::clicked, this, [this] {
            const QString dir = QFileDialog::getExistingDirectory(this, m_option.label);
            if (!dir.isEmpty())
                setText(dir);
        });
    }
}

QString OptionField::text() const
{
    if (m_combo && !m_combo->isEditable())
        return m_combo->currentData().toString();
    return (m_combo ? m_combo->currentText() : m_line->text()).trimmed();
}

void OptionField::setText(const QString &text)
{
    if (m_combo && !m_combo->isEditable()) {
        const int i = m_combo->findData(text);
        if (i >= 0)
            m_combo->setCurrentIndex(i);
    } else if (m_combo) {
        m_combo->setEditText(text);
    } else {
        m_line->setText(text);
    }
    Q_EMIT edited();
}

} // namespace mpa::ui
