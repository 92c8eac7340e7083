#ifndef FINCH_BENCH_BEAST_SERVER_HPP
#define FINCH_BENCH_BEAST_SERVER_HPP

// A plain Beast WebSocket server in the design of Beast's chat-multi example,
// the reference finch is measured against:
// - each session runs on a strand of its own;
// - a hub holds the open sessions in a set under one mutex;
// - a broadcast is one `shared_ptr<std::string const>`: the hub copies weak
//   pointers to the sessions under the lock, then, outside it, posts the
//   message to each session's strand;
// - each session queues what it has to send and writes one message per
//   `async_write`.
//
// What a frame means is up to the `Router` (see beast_raw_echo.cpp and
// beast_chat_server.cpp): `router(session, frame)` may call
// `session.echoFrame()`, `session.deliver(text)` or `session.hub().broadcast(text)`.
//
// With --compression, permessage-deflate as Beast does it: each session
// negotiates its own, keeps its own deflater and inflater (Beast's zlib),
// keeps its compression context between messages (Beast's default) and so
// compresses each message once per receiver, a broadcast's too. The level,
// memLevel, window and threshold are finch's (DeflateSettings); the client is
// asked not to keep its context (client_no_context_takeover), as finch does,
// unless --compression-takeover.
//
// With --tls-cert and --tls-key, wss:// as Beast's SSL examples write it:
// `websocket::stream<ssl_stream<tcp_stream>>`, an `ssl::context` loaded with
// the two PEM files, the TLS handshake (under a 30 s deadline) before the
// WebSocket one. The context accepts TLS 1.2 and later, as finch's does, and
// not `ssl::context::tlsv12` as in the examples, which Asio pins to TLS 1.2
// alone: both servers then negotiate TLS 1.3 with the same cipher, and a
// difference is one of design. Nothing else is tuned (no
// SSL_MODE_RELEASE_BUFFERS), as in the examples. Without them, the stream is
// `websocket::stream<tcp_stream>` and the code is what it was.

#include "server_runner.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/option.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

namespace bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

using SharedText = std::shared_ptr<const std::string>;

// What a session's websocket::stream runs on: ws:// or wss://.
using PlainLayer = beast::tcp_stream;
using TlsLayer = beast::ssl_stream<beast::tcp_stream>;

template <class Router, class NextLayer>
class BeastSession;

// The open sessions, and the broadcast to all of them.
template <class Router, class NextLayer>
class BeastHub {
public:
    using Session = BeastSession<Router, NextLayer>;

    void join(Session& session)
    {
        std::lock_guard lock(mutex_);
        sessions_.insert(&session);
    }

    void leave(Session& session)
    {
        std::lock_guard lock(mutex_);
        sessions_.erase(&session);
    }

    // Weak pointers, because a session may end between the copy and the
    // delivery; the lock is not held while delivering, so a slow post never
    // blocks joins and leaves.
    void broadcast(const SharedText& text)
    {
        std::vector<std::weak_ptr<Session>> receivers;
        {
            std::lock_guard lock(mutex_);
            receivers.reserve(sessions_.size());
            for (Session* session : sessions_)
                receivers.push_back(session->weak_from_this());
        }
        for (const auto& receiver : receivers)
            if (const auto session = receiver.lock())
                session->post(text);
    }

private:
    std::mutex mutex_;
    std::unordered_set<Session*> sessions_;
};

template <class Router, class NextLayer>
class BeastSession : public std::enable_shared_from_this<BeastSession<Router, NextLayer>> {
public:
    using Hub = BeastHub<Router, NextLayer>;
    using Stream = websocket::stream<NextLayer>;
    static constexpr bool secure = std::is_same_v<NextLayer, TlsLayer>;

    // `tls` is the listener's context for wss://, null for ws://.
    BeastSession(tcp::socket&& socket, net::ssl::context* tls, Hub& hub, Router& router,
        const websocket::permessage_deflate& deflate)
        : ws_(open(std::move(socket), tls))
        , hub_(hub)
        , router_(router)
    {
        ws_.set_option(deflate);
    }

    ~BeastSession()
    {
        if (joined_)
            hub_.leave(*this);
    }

    void run()
    {
        // The socket's executor is already this session's strand (see
        // BeastListener), so every handler below runs on it.
        net::dispatch(ws_.get_executor(), [self = this->shared_from_this()] { self->accept(); });
    }

    Hub& hub() noexcept { return hub_; }

    // Writes the frame just read back to its sender, bytes untouched: the
    // cheapest answer there is. Only from inside the router.
    void echoFrame() noexcept { echoPending_ = true; }

    // Queues `text` for this session. Only on the session's strand, which is
    // where the router runs.
    void deliver(SharedText text)
    {
        queue_.push_back(std::move(text));
        if (!writing_)
            writeNext();
    }

    // Queues `text` from any thread.
    void post(SharedText text)
    {
        net::post(ws_.get_executor(),
            [self = this->shared_from_this(), text = std::move(text)]() mutable { self->deliver(std::move(text)); });
    }

private:
    // A prvalue, so that the stream is made in place.
    static Stream open(tcp::socket&& socket, [[maybe_unused]] net::ssl::context* tls)
    {
        if constexpr (secure)
            return Stream(std::move(socket), *tls);
        else
            return Stream(std::move(socket));
    }

    // wss://: the TLS handshake first, under a deadline of its own, since the
    // WebSocket timeouts only start with the upgrade (Beast's SSL examples).
    void accept()
    {
        if constexpr (secure) {
            beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(30));
            ws_.next_layer().async_handshake(
                net::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
                    if (ec)
                        return;
                    beast::get_lowest_layer(self->ws_).expires_never();
                    self->upgrade();
                });
        } else {
            upgrade();
        }
    }

    void upgrade()
    {
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws_.auto_fragment(false);
        ws_.async_accept([self = this->shared_from_this()](beast::error_code ec) {
            if (ec)
                return;
            self->hub_.join(*self);
            self->joined_ = true;
            self->read();
        });
    }

    void read()
    {
        ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            if (!ec)
                self->onRead();
        });
    }

    void onRead()
    {
        const auto bytes = buffer_.cdata();
        router_(*this, std::string_view(static_cast<const char*>(bytes.data()), bytes.size()));
        if (!echoPending_ || writing_) {
            // A queued write is going on: the echo must wait its turn, so it
            // needs a copy of its own.
            if (echoPending_)
                deliver(std::make_shared<const std::string>(static_cast<const char*>(bytes.data()), bytes.size()));
            echoPending_ = false;
            buffer_.consume(buffer_.size());
            return read();
        }
        // The usual echo: write straight from the read buffer, and read the
        // next frame only once that write is done, since it reuses the buffer.
        echoPending_ = false;
        writing_ = true;
        ws_.text(ws_.got_text());
        ws_.async_write(buffer_.data(), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            self->writing_ = false;
            if (ec)
                return;
            self->buffer_.consume(self->buffer_.size());
            if (!self->queue_.empty())
                self->writeNext();
            self->read();
        });
    }

    void writeNext()
    {
        writing_ = true;
        ws_.text(true);
        ws_.async_write(
            net::buffer(*queue_.front()), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                self->writing_ = false;
                if (ec)
                    return;
                self->queue_.erase(self->queue_.begin());
                if (!self->queue_.empty())
                    self->writeNext();
            });
    }

    Stream ws_;
    beast::flat_buffer buffer_;
    Hub& hub_;
    Router& router_;
    std::vector<SharedText> queue_;
    bool writing_ = false;
    bool echoPending_ = false;
    bool joined_ = false;
};

// Accepts connections and starts a session on a new strand for each.
template <class Router, class NextLayer>
class BeastListener : public std::enable_shared_from_this<BeastListener<Router, NextLayer>> {
public:
    // `tls`: the context of every session for wss://, null for ws://.
    BeastListener(net::io_context& context, const tcp::endpoint& endpoint, net::ssl::context* tls,
        BeastHub<Router, NextLayer>& hub, Router& router, const websocket::permessage_deflate& deflate)
        : context_(context)
        , acceptor_(net::make_strand(context))
        , retryTimer_(acceptor_.get_executor())
        , tls_(tls)
        , hub_(hub)
        , router_(router)
        , deflate_(deflate)
    {
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(net::socket_base::max_listen_connections);
    }

    unsigned short port() const { return acceptor_.local_endpoint().port(); }

    void accept()
    {
        acceptor_.async_accept(
            net::make_strand(context_), [self = this->shared_from_this()](beast::error_code ec, tcp::socket socket) {
                if (ec) {
                    // Out of descriptors, most likely: an immediate retry would
                    // spin and spoil the CPU measurement, so wait a moment.
                    self->retryTimer_.expires_after(std::chrono::milliseconds(50));
                    self->retryTimer_.async_wait([self](beast::error_code) { self->accept(); });
                    return;
                }
                socket.set_option(tcp::no_delay(true), ec);
                std::make_shared<BeastSession<Router, NextLayer>>(
                    std::move(socket), self->tls_, self->hub_, self->router_, self->deflate_)
                    ->run();
                self->accept();
            });
    }

private:
    net::io_context& context_;
    tcp::acceptor acceptor_;
    net::steady_timer retryTimer_;
    net::ssl::context* tls_;
    BeastHub<Router, NextLayer>& hub_;
    Router& router_;
    websocket::permessage_deflate deflate_;
};

// The permessage-deflate option of every session: off unless --compression.
inline websocket::permessage_deflate deflateOption(const ServerSettings& settings)
{
    websocket::permessage_deflate deflate;
    deflate.server_enable = settings.compression;
    deflate.compLevel = DeflateSettings::level;
    deflate.memLevel = DeflateSettings::memLevel;
    deflate.server_max_window_bits = DeflateSettings::windowBits;
    deflate.msg_size_threshold = DeflateSettings::threshold;
    deflate.client_no_context_takeover = !settings.clientContextTakeover;
    return deflate;
}

// The server on `NextLayer` until signalled; `tls` is null for ws://.
template <class Router, class NextLayer>
void serveBeast(const ServerSettings& settings, std::string_view name, net::ssl::context* tls)
{
    // The hub and the router are declared before the io_context, so they
    // outlive the sessions that the io_context's destructor frees.
    Router router;
    BeastHub<Router, NextLayer> hub;
    net::io_context context(static_cast<int>(settings.threads));
    const auto listener = std::make_shared<BeastListener<Router, NextLayer>>(context,
        tcp::endpoint(net::ip::make_address("127.0.0.1"), settings.port), tls, hub, router, deflateOption(settings));
    listener->accept();
    announceListening(name, listener->port());
    runUntilSignalled(context, settings.threads);
}

// The TLS context of Beast's SSL examples (load_server_certificate), from
// the PEM files of --tls-cert and --tls-key, TLS 1.2 and later (see above).
inline void loadServerCertificate(net::ssl::context& tls, const ServerSettings& settings)
{
    tls.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
        net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1 |
        net::ssl::context::single_dh_use);
    tls.use_certificate_chain_file(settings.tlsCert);
    tls.use_private_key_file(settings.tlsKey, net::ssl::context::pem);
}

// The whole server: `name [--port N] [--threads N] [--address 127.0.0.1]
// [--compression] [--compression-takeover] [--tls-cert FILE --tls-key FILE]`
// on 127.0.0.1.
template <class Router>
int runBeastServer(int argc, char** argv, std::string_view name)
{
    const auto settings = parseServerArguments(argc, argv, name, true, true);
    try {
        if (settings.tls()) {
            // Before the io_context, which frees the sessions that use it.
            net::ssl::context tls(net::ssl::context::tls_server);
            loadServerCertificate(tls, settings);
            serveBeast<Router, TlsLayer>(settings, name, &tls);
        } else {
            serveBeast<Router, PlainLayer>(settings, name, nullptr);
        }
    } catch (const std::exception& e) {
        std::cerr << name << ": " << e.what() << '\n';
        return 1;
    }
    return 0;
}

}  // namespace bench

#endif
