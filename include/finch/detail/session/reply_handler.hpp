#ifndef FINCH_DETAIL_SESSION_REPLY_HANDLER_HPP
#define FINCH_DETAIL_SESSION_REPLY_HANDLER_HPP

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/system/error_code.hpp>
#include <nlohmann/json.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <utility>

namespace finch::detail {

// What a connection keeps for each of its requests to the client: called
// exactly once, on the connection's strand, with the outcome.
using ReplyCallback = std::function<void(boost::system::error_code, nlohmann::json)>;

// The reply callback that is dispatching its handler on this thread, so that
// the handler can tell whether it runs inline, within that call.
struct InlineCompletion {
    const void* handler = nullptr;
    std::exception_ptr thrown;  // what the handler threw, run inline
};

inline InlineCompletion*& inlineCompletion() noexcept
{
    thread_local InlineCompletion* current = nullptr;
    return current;
}

// Adapts an Asio completion handler to a ReplyCallback. std::function wants a
// copyable target, and the handlers of use_future or of coroutines can only
// be moved, so the handler sits behind a shared pointer. It is invoked on its
// associated executor (the connection's strand unless it brings its own: a
// coroutine resumes where it was suspended), whose work is counted until then
// so that its io_context does not run out of work under a pending request.
//
// What the handler throws never reaches its executor: an io_context's
// executor that runs it inline keeps the exception and rethrows it from
// run(), and one that runs it later would throw it from its own run(). Run
// inline, within the callback, the exception is thrown by the callback itself
// once dispatch() has returned, so that the guard around the completion, on
// the strand, reports it as it reports any callback's. Run later, it goes to
// `onThrow(std::exception_ptr)`, which must not throw and whose business it
// is to report it on the strand.
template <class Handler, class Executor, class OnThrow>
ReplyCallback makeReplyCallback(Handler handler, const Executor& fallback, OnThrow onThrow)
{
    auto executor = boost::asio::prefer(
        boost::asio::get_associated_executor(handler, fallback), boost::asio::execution::outstanding_work.tracked);
    auto shared = std::make_shared<Handler>(std::move(handler));
    return [shared = std::move(shared), executor = std::move(executor), onThrow = std::move(onThrow)](
               boost::system::error_code ec, nlohmann::json reply) {
        InlineCompletion here{shared.get(), nullptr};
        struct Scope {
            InlineCompletion* outer;
            ~Scope() { inlineCompletion() = outer; }
        } scope{std::exchange(inlineCompletion(), &here)};
        boost::asio::dispatch(executor, [shared, onThrow, ec, reply = std::move(reply)]() mutable {
            try {
                std::move (*shared)(ec, std::move(reply));
            } catch (...) {
                InlineCompletion* const current = inlineCompletion();
                if (current && current->handler == shared.get())
                    current->thrown = std::current_exception();
                else
                    onThrow(std::current_exception());
            }
        });
        if (here.thrown)
            std::rethrow_exception(here.thrown);
    };
}

}  // namespace finch::detail

#endif
