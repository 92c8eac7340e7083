#ifndef FINCH_DETAIL_SESSION_REPLY_HANDLER_HPP
#define FINCH_DETAIL_SESSION_REPLY_HANDLER_HPP

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/system/error_code.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <utility>

namespace finch::detail {

// What a connection keeps for each of its requests to the client: called
// exactly once, on the connection's strand, with the outcome.
using ReplyCallback = std::function<void(boost::system::error_code, nlohmann::json)>;

// Adapts an Asio completion handler to a ReplyCallback. std::function wants a
// copyable target, and the handlers of use_future or of coroutines can only
// be moved, so the handler sits behind a shared pointer. It is invoked on its
// associated executor (the connection's strand unless it brings its own: a
// coroutine resumes where it was suspended), whose work is counted until then
// so that its io_context does not run out of work under a pending request.
template <class Handler, class Executor>
ReplyCallback makeReplyCallback(Handler handler, const Executor& fallback)
{
    auto executor = boost::asio::prefer(
        boost::asio::get_associated_executor(handler, fallback), boost::asio::execution::outstanding_work.tracked);
    auto shared = std::make_shared<Handler>(std::move(handler));
    return [shared = std::move(shared), executor = std::move(executor)](
               boost::system::error_code ec, nlohmann::json reply) {
        boost::asio::dispatch(
            executor, [shared, ec, reply = std::move(reply)]() mutable { std::move (*shared)(ec, std::move(reply)); });
    };
}

}  // namespace finch::detail

#endif
