#ifndef FINCH_DETAIL_HTTP_LISTENER_HPP
#define FINCH_DETAIL_HTTP_LISTENER_HPP

#include <finch/detail/http/http_session.hpp>
#include <finch/detail/manager/manager_state.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace finch::detail {

// Accepts TCP connections on one endpoint and gives each to an HttpSession on
// a strand of its own. The socket is accepted straight onto its strand (its
// executor type is the strand's), so it never has to move there afterwards.
// What the connection runs over is made by `makeTransport`: a TLS listener
// binds its TlsContext into it.
template <class Transport, class UserData>
class Listener : public std::enable_shared_from_this<Listener<Transport, UserData>> {
public:
    using StrandType = boost::asio::strand<boost::asio::any_io_executor>;
    using SocketType = typename Transport::SocketType;
    using TransportFactory = std::function<Transport(SocketType&&)>;

    Listener(std::shared_ptr<ManagerState<Transport, UserData>> state, std::string target,
        TransportFactory makeTransport)
        : makeTransport_(std::move(makeTransport))
        , strand_(boost::asio::make_strand(state->executor))
        , acceptor_(strand_)
        , retryTimer_(strand_)
        , state_(std::move(state))
        , target_(std::make_shared<const std::string>(std::move(target)))
    {
    }

    // Opens, binds and listens; the error is returned, nothing is thrown.
    boost::system::error_code open(const boost::asio::ip::tcp::endpoint& endpoint)
    {
        boost::system::error_code ec;
        acceptor_.open(endpoint.protocol(), ec);
        if (!ec)
            acceptor_.set_option(boost::asio::socket_base::reuse_address(true), ec);
        if (!ec)
            acceptor_.bind(endpoint, ec);
        if (!ec)
            acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
        if (!ec)
            localEndpoint_ = acceptor_.local_endpoint(ec);
        if (ec) {
            boost::system::error_code ignored;
            acceptor_.close(ignored);
        }
        return ec;
    }

    const boost::asio::ip::tcp::endpoint& localEndpoint() const noexcept { return localEndpoint_; }

    void run()
    {
        boost::asio::post(strand_, [self = this->shared_from_this()] { self->accept(); });
    }

    void stop()
    {
        boost::asio::post(strand_, [self = this->shared_from_this()] {
            boost::system::error_code ignored;
            self->acceptor_.close(ignored);
            self->retryTimer_.cancel();
        });
    }

private:
    void accept()
    {
        acceptor_.async_accept(boost::asio::make_strand(state_->executor),
            [self = this->shared_from_this()](
                boost::system::error_code ec, SocketType socket) { self->onAccept(ec, std::move(socket)); });
    }

    void onAccept(boost::system::error_code ec, SocketType socket)
    {
        if (!acceptor_.is_open())
            return;  // stopped
        if (ec) {
            // Out of file descriptors, most likely: retrying at once would spin
            // the CPU until a connection closes, so wait a moment.
            retryTimer_.expires_after(std::chrono::milliseconds(50));
            retryTimer_.async_wait([self = this->shared_from_this()](boost::system::error_code waitError) {
                if (!waitError)
                    self->accept();
            });
            return;
        }
        // Counted from here: a request still being read holds a slot. Without
        // one the request is still read, and answered 503.
        std::make_shared<HttpSession<Transport, UserData>>(
            state_, makeTransport_(std::move(socket)), target_, state_->slots.tryAcquire())
            ->run();
        accept();
    }

    const TransportFactory makeTransport_;
    StrandType strand_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retryTimer_;
    const std::shared_ptr<ManagerState<Transport, UserData>> state_;
    const std::shared_ptr<const std::string> target_;
    boost::asio::ip::tcp::endpoint localEndpoint_;
};

}  // namespace finch::detail

#endif
