#ifndef FINCH_DETAIL_REDIS_ASIO_ADAPTER_HPP
#define FINCH_DETAIL_REDIS_ASIO_ADAPTER_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <hiredis/async.h>

#include <memory>

namespace finch::detail::redis {

// Drives a hiredis async context from an Asio executor: hiredis' event hooks
// (ev.addRead ... ev.cleanup) become async_wait on a stream_descriptor, and
// readiness becomes redisAsyncHandleRead/Write.
//
// Every hook and every completion runs on the one strand that makes all the
// hiredis calls of the context, so nothing here is locked.
//
// Lifetime: hiredis owns the socket and closes it in redisFree, right after
// the cleanup hook. The descriptor therefore never closes it: cleanup and the
// destructor release() it. A wait may still be queued when hiredis frees the
// context (from inside a read, or from redisAsyncFree); each completion holds
// the adapter by shared_ptr and finds context_ null, so it never touches
// freed memory. hiredis holds one reference too (the `self_` the hooks reach
// through ev.data), dropped by cleanup.
class AsioAdapter : public std::enable_shared_from_this<AsioAdapter> {
public:
    // Attaches to `context`, whose executor must be `strand`'s. Returns false
    // if the context already has hooks, or its socket cannot be registered
    // with Asio's reactor; the caller then frees the context.
    static bool attach(redisAsyncContext* context, const boost::asio::any_io_executor& strand)
    {
        if (context->ev.data != nullptr)
            return false;
        auto adapter = std::shared_ptr<AsioAdapter>(new AsioAdapter(context, strand));
        boost::system::error_code ec;
        adapter->descriptor_.assign(context->c.fd, ec);
        if (ec)
            return false;
        adapter->self_ = adapter;
        context->ev.data = adapter.get();
        context->ev.addRead = &AsioAdapter::addRead;
        context->ev.delRead = &AsioAdapter::delRead;
        context->ev.addWrite = &AsioAdapter::addWrite;
        context->ev.delWrite = &AsioAdapter::delWrite;
        context->ev.cleanup = &AsioAdapter::cleanup;
        return true;
    }

    AsioAdapter(const AsioAdapter&) = delete;
    AsioAdapter& operator=(const AsioAdapter&) = delete;

    ~AsioAdapter()
    {
        // Also when the io_context is destroyed with a wait queued: the fd
        // is still hiredis'.
        if (descriptor_.is_open())
            descriptor_.release();
    }

private:
    AsioAdapter(redisAsyncContext* context, const boost::asio::any_io_executor& strand)
        : context_(context)
        , descriptor_(strand)
    {
    }

    static AsioAdapter& of(void* data) { return *static_cast<AsioAdapter*>(data); }

    // hiredis calls the add hooks again and again (after every read, say):
    // at most one wait per direction is queued.
    static void addRead(void* data)
    {
        AsioAdapter& self = of(data);
        self.wantRead_ = true;
        self.waitRead();
    }

    static void delRead(void* data) { of(data).wantRead_ = false; }

    static void addWrite(void* data)
    {
        AsioAdapter& self = of(data);
        self.wantWrite_ = true;
        self.waitWrite();
    }

    static void delWrite(void* data) { of(data).wantWrite_ = false; }

    static void cleanup(void* data)
    {
        AsioAdapter& self = of(data);
        self.context_ = nullptr;
        self.wantRead_ = false;
        self.wantWrite_ = false;
        if (self.descriptor_.is_open())
            self.descriptor_.release();  // cancels the queued waits, keeps the fd open for redisFree
        self.self_.reset();  // may destroy `self` when no wait is queued: nothing after this
    }

    void waitRead()
    {
        if (readQueued_ || context_ == nullptr)
            return;
        readQueued_ = true;
        descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
            [self = shared_from_this()](const boost::system::error_code& ec) {
                self->readQueued_ = false;
                if (ec == boost::asio::error::operation_aborted || self->context_ == nullptr || !self->wantRead_)
                    return;
                // Any other error of the wait itself is the socket's: the read
                // finds it and hiredis reports it as the connection's failure.
                redisAsyncHandleRead(self->context_);
            });
    }

    void waitWrite()
    {
        if (writeQueued_ || context_ == nullptr)
            return;
        writeQueued_ = true;
        descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_write,
            [self = shared_from_this()](const boost::system::error_code& ec) {
                self->writeQueued_ = false;
                if (ec == boost::asio::error::operation_aborted || self->context_ == nullptr || !self->wantWrite_)
                    return;
                redisAsyncHandleWrite(self->context_);
            });
    }

    redisAsyncContext* context_;
    boost::asio::posix::stream_descriptor descriptor_;
    std::shared_ptr<AsioAdapter> self_;
    bool wantRead_ = false;
    bool wantWrite_ = false;
    bool readQueued_ = false;
    bool writeQueued_ = false;
};

}  // namespace finch::detail::redis

#endif
