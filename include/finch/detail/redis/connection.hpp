#ifndef FINCH_DETAIL_REDIS_CONNECTION_HPP
#define FINCH_DETAIL_REDIS_CONNECTION_HPP

#include <finch/detail/redis/asio_adapter.hpp>
#include <finch/redis_error.hpp>
#include <finch/redis_options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace finch::detail::redis {

// The words of one command, binary-safe: each is passed to hiredis with its
// length, never through a format string.
class CommandArgs {
public:
    void add(std::string_view word)
    {
        words_.push_back(word.data());
        lengths_.push_back(word.size());
    }
    int count() const { return static_cast<int>(words_.size()); }
    const char** words() { return words_.data(); }
    const std::size_t* lengths() const { return lengths_.data(); }

private:
    std::vector<const char*> words_;
    std::vector<std::size_t> lengths_;
};

// hiredis' description of a failure: its class as a RedisError, its text as
// is. While connecting, hiredis 0.14 files the socket's own failures (a
// refused connection, with strerror's text) under REDIS_ERR_OTHER: there,
// anything but memory is the socket's.
inline boost::system::error_code redisErrorOf(int hiredisError, bool connecting = false)
{
    switch (hiredisError) {
    case REDIS_ERR_IO:
        return RedisError::io;
    case REDIS_ERR_EOF:
        return RedisError::closed;
    case REDIS_ERR_PROTOCOL:
        return RedisError::protocol;
    case REDIS_ERR_OTHER:
        return connecting ? RedisError::io : RedisError::other;
    default:
        return RedisError::other;
    }
}

// One hiredis async connection to Redis: connect within a deadline, AUTH and
// SELECT, then commands. It reports readiness once, and failure once per
// attempt; after a failure the owner calls open() again for a new attempt.
//
// Everything runs on `strand`, the executor of every hiredis call of this
// connection. hiredis calls back from inside redisAsyncHandleRead/Write and
// from redisAsyncFree, where freeing the context again would be a double
// free (onConnect and onDisconnect run outside hiredis' "in callback" guard):
// so a failure seen in a callback is acted on in a handler posted to the
// strand, and the context pointer is forgotten as soon as hiredis says it
// frees the context.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    struct Handlers {
        // Connected, authenticated, database selected.
        std::function<void()> onReady;
        // The attempt or the connection failed; the context is gone. `text`
        // is hiredis' errstr or the server's error reply.
        std::function<void(boost::system::error_code, std::string text)> onFailed;
        // Every reply of a SUBSCRIBE or UNSUBSCRIBE sent with subscribe()
        // (confirmations and messages alike); null when the context goes.
        std::function<void(const redisReply*)> onPush;
        // The reply to a PUBLISH sent with publish(); null when the context
        // goes before Redis answered.
        std::function<void(const redisReply*)> onPublished;
    };

    Connection(boost::asio::any_io_executor strand, const RedisOptions& options, Handlers handlers)
        : strand_(std::move(strand))
        , options_(options)
        , handlers_(std::move(handlers))
        , timer_(strand_)
        , resolver_(strand_)
    {
    }

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    ~Connection() { abort(); }

    // Starts an attempt. Precondition: no context (new, or after onFailed,
    // abort() or close()).
    void open()
    {
        ++attempt_;
        ready_ = false;
        failed_ = false;
        closing_ = false;
        replies_.clear();
        // The deadline covers the resolution of a name too.
        timer_.expires_after(options_.connectTimeout);
        timer_.async_wait([weak = weak_from_this(), attempt = attempt_](const boost::system::error_code& ec) {
            auto self = weak.lock();
            if (!ec && self && self->attempt_ == attempt && !self->ready_)
                self->fail(RedisError::connectTimeout, "no connection to Redis within connectTimeout");
        });
        boost::system::error_code notAddress;
        boost::asio::ip::make_address(options_.host, notAddress);
        if (!notAddress)
            return connectTo(options_.host);
        // hiredis would resolve a name with a blocking getaddrinfo on this
        // thread, an io thread of the application: Asio resolves it first,
        // off the io threads, and hiredis gets the address.
        resolver_.async_resolve(options_.host, std::to_string(options_.port),
            [weak = weak_from_this(), attempt = attempt_](
                const boost::system::error_code& ec, const boost::asio::ip::tcp::resolver::results_type& results) {
                auto self = weak.lock();
                if (!self || self->attempt_ != attempt || self->failed_ || self->closing_)
                    return;
                if (ec || results.empty())
                    return self->fail(RedisError::io,
                        "cannot resolve " + self->options_.host + ": " + (ec ? ec.message() : "no address"));
                // IPv4 first: "localhost" is often ::1 first, and a Redis
                // bound to 127.0.0.1 (its packaged default) refuses that.
                auto chosen = results.begin();
                for (auto entry = results.begin(); entry != results.end(); ++entry)
                    if (entry->endpoint().address().is_v4()) {
                        chosen = entry;
                        break;
                    }
                self->connectTo(chosen->endpoint().address().to_string());
            });
    }

private:
    // The rest of open(), once the address is known.
    void connectTo(const std::string& address)
    {
        redisAsyncContext* context = redisAsyncConnect(address.c_str(), options_.port);
        if (context == nullptr) {
            failLater(RedisError::other, "hiredis could not allocate a context");
            return;
        }
        if (context->err != 0) {
            // A refusal seen by connect() itself, as loopback often does.
            const auto ec = redisErrorOf(context->err, true);
            std::string text = context->errstr;
            redisAsyncFree(context);
            failLater(ec, std::move(text));
            return;
        }
        context->data = this;
        if (!AsioAdapter::attach(context, strand_)) {
            redisAsyncFree(context);
            failLater(RedisError::other, "the socket could not be registered with Asio");
            return;
        }
        context_ = context;
        // Setting the connect callback also asks for the first write
        // readiness (hiredis' addWrite hook), which is how a non-blocking
        // connect completes: the adapter must be attached before.
        redisAsyncSetConnectCallback(context_, &Connection::connected);
        redisAsyncSetDisconnectCallback(context_, &Connection::disconnected);
    }

public:
    bool ready() const { return ready_; }

    // Queues a PUBLISH; its reply goes to onPublished. False if not ready.
    bool publish(std::string_view channel, std::string_view payload)
    {
        if (!ready_)
            return false;
        CommandArgs args;
        args.add("PUBLISH");
        args.add(channel);
        args.add(payload);
        return redisAsyncCommandArgv(
                   context_, &Connection::published, this, args.count(), args.words(), args.lengths()) == REDIS_OK;
    }

    // Queues SUBSCRIBE or UNSUBSCRIBE (`verb`) for `channels`; replies go to
    // onPush. False if not ready, or if hiredis refuses (UNSUBSCRIBE on a
    // context that is no longer subscribed to anything).
    template <class Channels>
    bool subscription(std::string_view verb, const Channels& channels)
    {
        if (!ready_)
            return false;
        CommandArgs args;
        args.add(verb);
        for (const auto& channel : channels)
            args.add(channel);
        // UNSUBSCRIBE has no reply of its own in hiredis (each channel's
        // confirmation goes to that channel's SUBSCRIBE callback).
        return redisAsyncCommandArgv(context_, &Connection::pushed, this, args.count(), args.words(), args.lengths()) ==
            REDIS_OK;
    }

    // Sends what hiredis holds, waits for the replies, then disconnects and
    // calls `onClosed` (also at once, if there is no connection). No other
    // handler runs for this attempt.
    void close(std::function<void()> onClosed)
    {
        timer_.cancel();
        if (context_ == nullptr || !ready_) {
            abort();
            boost::asio::post(strand_, std::move(onClosed));
            return;
        }
        closing_ = true;
        onClosed_ = std::move(onClosed);
        redisAsyncDisconnect(context_);
    }

    // Drops the connection now; no handler runs for this attempt (except the
    // null replies of what was pending, to onPush and onPublished). Not from
    // inside a hiredis callback.
    void abort()
    {
        timer_.cancel();
        resolver_.cancel();
        ++attempt_;
        ready_ = false;
        closing_ = true;
        onClosed_ = nullptr;
        if (redisAsyncContext* context = std::exchange(context_, nullptr))
            redisAsyncFree(context);
    }

private:
    static Connection& of(const redisAsyncContext* context) { return *static_cast<Connection*>(context->data); }

    static void connected(const redisAsyncContext* context, int status)
    {
        Connection& self = of(context);
        if (status != REDIS_OK) {
            // hiredis frees the context when this returns.
            self.context_ = nullptr;
            // hiredis copies the error to the async context only after this
            // callback: it is still in the inner one.
            self.failLater(redisErrorOf(context->c.err, true), context->c.errstr);
            return;
        }
        self.handshake();
    }

    static void disconnected(const redisAsyncContext* context, int status)
    {
        Connection& self = of(context);
        self.context_ = nullptr;
        if (self.closing_) {
            if (auto onClosed = std::exchange(self.onClosed_, nullptr))
                boost::asio::post(self.strand_, std::move(onClosed));
            return;
        }
        if (status == REDIS_OK)
            self.failLater(RedisError::closed, "the connection to Redis was closed");
        else
            self.failLater(redisErrorOf(context->err != 0 ? context->err : context->c.err), context->c.errstr);
    }

    static void published(redisAsyncContext*, void* reply, void* data)
    {
        auto& self = *static_cast<Connection*>(data);
        if (self.handlers_.onPublished)
            self.handlers_.onPublished(static_cast<const redisReply*>(reply));
    }

    static void pushed(redisAsyncContext*, void* reply, void* data)
    {
        auto& self = *static_cast<Connection*>(data);
        if (self.handlers_.onPush)
            self.handlers_.onPush(static_cast<const redisReply*>(reply));
    }

    static void answered(redisAsyncContext*, void* reply, void* data)
    {
        auto& self = *static_cast<Connection*>(data);
        if (self.replies_.empty())
            return;
        auto handler = std::move(self.replies_.front());
        self.replies_.pop_front();
        handler(static_cast<const redisReply*>(reply));
    }

    // AUTH and SELECT when configured, and a PING: its answer proves the
    // server serves this client (a server still loading its data set, or one
    // that wants AUTH, answers with an error instead).
    void handshake()
    {
        if (!options_.password.empty()) {
            CommandArgs args;
            args.add("AUTH");
            if (!options_.username.empty())
                args.add(options_.username);
            args.add(options_.password);
            command(args, false);
        }
        std::string database;
        if (options_.database != 0) {
            database = std::to_string(options_.database);
            CommandArgs args;
            args.add("SELECT");
            args.add(database);
            command(args, false);
        }
        CommandArgs args;
        args.add("PING");
        command(args, true);
    }

    void command(CommandArgs& args, bool last)
    {
        replies_.push_back([this, last](const redisReply* reply) {
            if (reply == nullptr || failed_)
                return;  // the context is going; disconnected() reports why
            if (reply->type == REDIS_REPLY_ERROR) {
                fail(RedisError::rejected, std::string(reply->str, reply->len));
                return;
            }
            if (last && !ready_) {
                ready_ = true;
                timer_.cancel();
                if (handlers_.onReady)
                    handlers_.onReady();
            }
        });
        if (redisAsyncCommandArgv(context_, &Connection::answered, this, args.count(), args.words(), args.lengths()) !=
            REDIS_OK) {
            replies_.pop_back();
            fail(RedisError::other, "hiredis refused a command");
        }
    }

    // A failure seen on the strand but maybe inside a hiredis callback: the
    // context is freed from a handler of its own.
    void fail(boost::system::error_code ec, std::string text)
    {
        if (failed_)
            return;
        failed_ = true;
        ready_ = false;
        timer_.cancel();
        boost::asio::post(strand_, [weak = weak_from_this(), attempt = attempt_, ec, text = std::move(text)]() mutable {
            auto self = weak.lock();
            if (!self || self->attempt_ != attempt)
                return;
            self->abort();
            if (self->handlers_.onFailed)
                self->handlers_.onFailed(ec, std::move(text));
        });
    }

    void failLater(boost::system::error_code ec, std::string text)
    {
        if (closing_)
            return;
        fail(ec, std::move(text));
    }

    boost::asio::any_io_executor strand_;
    const RedisOptions& options_;
    Handlers handlers_;
    boost::asio::steady_timer timer_;
    boost::asio::ip::tcp::resolver resolver_;
    redisAsyncContext* context_ = nullptr;
    // Each attempt's number, so that a handler posted for an older attempt
    // (a timeout, a failure) does nothing to a newer one.
    unsigned long attempt_ = 0;
    bool ready_ = false;
    bool failed_ = false;
    bool closing_ = false;
    std::function<void()> onClosed_;
    std::deque<std::function<void(const redisReply*)>> replies_;
};

}  // namespace finch::detail::redis

#endif
