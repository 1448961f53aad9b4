#pragma once
// One exception type for every user-facing failure in the core. Its message is meant to be
// shown as is: it names the input (file, workspace, record) and the problem in one line.
#include <QString>
#include <stdexcept>

namespace mpa {

class Error : public std::runtime_error
{
public:
    explicit Error(const QString &message)
        : std::runtime_error(message.toStdString())
        , m_message(message)
    {
    }
    const QString &message() const noexcept { return m_message; }

private:
    QString m_message;
};

} // namespace mpa
