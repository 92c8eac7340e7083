#ifndef FINCH_IMPL_ENVELOPE_FORMAT_HPP
#define FINCH_IMPL_ENVELOPE_FORMAT_HPP

#include <finch/envelope_format.hpp>

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <utility>

namespace finch {

namespace detail {

// `"name":` with `name` escaped as JSON requires.
inline std::string jsonKey(const std::string& name)
{
    return nlohmann::json(name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + ':';
}

}  // namespace detail

inline EnvelopeFormat::EnvelopeFormat(
    std::string pathMember, std::string dataMember, std::string statusMember, std::string timestampMember)
    : pathMember_(std::move(pathMember))
    , dataMember_(std::move(dataMember))
    , statusMember_(std::move(statusMember))
    , timestampMember_(std::move(timestampMember))
{
    if (pathMember_.empty() || dataMember_.empty())
        throw std::invalid_argument("finch::EnvelopeFormat: the route and data members need names");
    const std::string* names[] = {&pathMember_, &dataMember_, &statusMember_, &timestampMember_};
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = i + 1; j < 4; ++j)
            if (!names[i]->empty() && *names[i] == *names[j])
                throw std::invalid_argument("finch::EnvelopeFormat: two members named \"" + *names[i] + "\"");
    headKey_ = '{' + detail::jsonKey(pathMember_);
    dataKey_ = ',' + detail::jsonKey(dataMember_);
    if (!statusMember_.empty())
        statusKey_ = ',' + detail::jsonKey(statusMember_);
    if (!timestampMember_.empty())
        timestampKey_ = ',' + detail::jsonKey(timestampMember_);
}

}  // namespace finch

#endif
