#ifndef FINCH_DETAIL_TLS_TLS_CHANNEL_HPP
#define FINCH_DETAIL_TLS_TLS_CHANNEL_HPP

#include <finch/detail/memory/prefetch.hpp>
#include <finch/detail/tls/openssl_error.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <string>

namespace finch::detail {

// One connection's TLS: OpenSSL working straight on the non-blocking socket,
// through a BIO of finch's own (no memory BIO between them, so ciphertext is
// not copied on its way to or from the kernel).
//
// The BIO never makes OpenSSL retry a write: what the kernel does not take
// now is kept here (`pending_`) and reported to OpenSSL as written. So
// SSL_write never fails with WANT_WRITE, and never has to be repeated with
// the same arguments, the rule that breaks a writer whose queue may change
// between tries (OverflowPolicy::dropOldest drops frames that have not
// begun). While ciphertext is kept, write() holds back the last byte it
// encrypted (`owed_`): the caller sees an unfinished write, waits until the
// socket takes bytes again and calls write() once more, which sends the
// ciphertext first and only then reports that byte. A byte reported written
// is therefore always on its way in the kernel, as with a plain socket.
//
// Reads go through OpenSSL's read-ahead buffer: records that arrived
// together are decrypted from it without another recv(), and
// `hasPendingInput()` says so, since epoll will not (the socket is empty).
//
// One SSL object must never be used from two threads at once: read(),
// write() and shutdown() hold the channel's mutex, so a sender's thread may
// write while the connection's strand reads (finch's sendsBesideReceive).
// The other members are the strand's, called where no write runs beside
// them (under the stream's write lock, or before the connection is shared).
template <class Socket>
class TlsChannel {
public:
    // Takes ownership of `ssl` (a server SSL in accept state).
    explicit TlsChannel(SSL* ssl) noexcept : ssl_(ssl)
    {
        BIO* const bio = BIO_new(method());
        if (!bio) {
            ioError_ = lastOpenSslError();
            return;
        }
        BIO_set_data(bio, this);
        BIO_set_init(bio, 1);
        SSL_set_bio(ssl_, bio, bio);  // the SSL owns it now
    }

    ~TlsChannel() { SSL_free(ssl_); }

    TlsChannel(const TlsChannel&) = delete;
    TlsChannel& operator=(const TlsChannel&) = delete;

    SSL* nativeHandle() const noexcept { return ssl_; }

    // TlsTransport::prefetch: step 0, this channel; step 1, the first lines
    // of its SSL, which SSL_write reads first (with them prefetched, the
    // stall at the start of SSL_write left the profile of a broadcast).
    void prefetch(int step) const noexcept
    {
        if (step == 0)
            prefetchLines(this, sizeof *this);
        else
            prefetchLines(ssl_, sslPrefetchBytes);
    }

    // Bytes of the handshake (ClientHello and what follows) a client may
    // send before finch cuts it: Options::maxHeaderBytes, as for the request.
    void limitHandshake(std::size_t bytes) noexcept { handshakeLimit_ = bytes; }

    // Bytes readable without the socket: decrypted ones or records OpenSSL
    // holds, or ciphertext received into the inbox.
    // Not what OpenSSL holds after a read that wanted more: the start of a
    // record, which needs the socket (SSL_has_pending counts it too).
    bool hasPendingInput() noexcept
    {
        std::lock_guard lock(mutex_);
        return inboxBegin_ < inboxEnd_ || (!readBlocked_ && SSL_has_pending(ssl_) == 1);
    }

    // Where an asynchronous receive puts ciphertext for the next read: Asio's
    // reactor completes a receive straight from epoll's report, where a wait
    // for readiness costs an epoll_ctl each time (a third of the system calls
    // of an echoed message). Made when a connection starts exchanging
    // messages; given back by releaseInbox() when it goes idle.
    boost::asio::mutable_buffer inbox()
    {
        if (!inbox_)
            inbox_ = std::make_unique<char[]>(inboxSize);
        inboxBegin_ = inboxEnd_ = 0;
        receiving_ = true;
        return boost::asio::buffer(inbox_.get(), inboxSize);
    }

    // `size` bytes (0 when the receive failed) arrived in the inbox.
    void received(std::size_t size) noexcept
    {
        receiving_ = false;
        inboxBegin_ = 0;
        inboxEnd_ = size;
    }

    // An idle connection holds no inbox (none may be receiving into it).
    void releaseInbox() noexcept
    {
        if (inboxBegin_ == inboxEnd_ && !receiving_)
            inbox_.reset();
    }

    // Ciphertext the kernel has not taken yet.
    bool hasPendingOutput() noexcept
    {
        std::lock_guard lock(mutex_);
        return pendingOutput();
    }

    // One non-blocking read of plaintext; the handshake, first.
    std::size_t read(Socket& socket, boost::asio::mutable_buffer buffer, boost::system::error_code& ec)
    {
        std::lock_guard lock(mutex_);
        socket_ = &socket;
        if (pendingOutput() && !flush(socket, ec) && ec)
            return 0;
        std::size_t size = 0;
        ERR_clear_error();
        if (SSL_read_ex(ssl_, buffer.data(), buffer.size(), &size) == 1) {
            readBlocked_ = false;
            ec = {};
            return size;
        }
        ec = failure(SSL_get_error(ssl_, 0));
        readBlocked_ = ec == boost::asio::error::would_block;
        return 0;
    }

    // One non-blocking write of plaintext: encrypts records of up to 16 KiB
    // (a gathered write is coalesced first: OpenSSL writes one buffer at a
    // time, and a record per small frame would cost a system call each)
    // until everything is sent or the kernel stops taking bytes.
    template <class ConstBufferSequence>
    std::size_t write(Socket& socket, const ConstBufferSequence& buffers, boost::system::error_code& ec)
    {
        std::lock_guard lock(mutex_);
        socket_ = &socket;
        if (!flush(socket, ec)) {
            if (!ec)
                ec = boost::asio::error::would_block;
            return 0;
        }
        if (owed_) {
            owed_ = false;
            ec = {};
            return 1;
        }
        auto next = boost::asio::buffer_sequence_begin(buffers);
        const auto end = boost::asio::buffer_sequence_end(buffers);
        std::size_t offset = 0;  // into *next
        std::size_t total = 0;
        for (;;) {
            while (next != end && offset == boost::asio::const_buffer(*next).size()) {
                ++next;
                offset = 0;
            }
            if (next == end)
                break;
            // One record's plaintext: straight from a buffer that fills it
            // alone, else gathered into the thread's scratch.
            const boost::asio::const_buffer first = boost::asio::const_buffer(*next) + offset;
            const char* data = static_cast<const char*>(first.data());
            std::size_t size = first.size();
            if (size >= recordSize) {
                size = recordSize;
                offset += size;
            } else {
                char* const scratch = recordScratch().data();
                size = 0;
                while (next != end && size < recordSize) {
                    const boost::asio::const_buffer piece = boost::asio::const_buffer(*next) + offset;
                    const std::size_t take = std::min(piece.size(), recordSize - size);
                    std::memcpy(scratch + size, piece.data(), take);
                    size += take;
                    offset += take;
                    if (offset == boost::asio::const_buffer(*next).size()) {
                        ++next;
                        offset = 0;
                    }
                }
                data = scratch;
            }
            std::size_t written = 0;
            ERR_clear_error();
            if (SSL_write_ex(ssl_, data, size, &written) != 1) {
                ec = failure(SSL_get_error(ssl_, 0));
                if (ec == boost::asio::error::would_block && total > 0)
                    ec = {};
                return total;
            }
            total += written;
            if (pendingOutput()) {
                // The kernel is full: see the class comment.
                owed_ = true;
                if (--total == 0)
                    ec = boost::asio::error::would_block;
                else
                    ec = {};
                return total;
            }
            if (written < size)
                break;  // not seen with finch's BIO; the caller comes back for the rest
        }
        ec = {};
        return total;
    }

    // Sends TLS's close_notify if the handshake is done and nothing has
    // failed; best effort, without waiting (what the kernel does not take
    // now is dropped with the connection). Returns whether ciphertext is
    // still waiting for the kernel.
    bool shutdown(Socket& socket) noexcept
    {
        std::lock_guard lock(mutex_);
        if (!shutdownSent_ && !ioError_ && SSL_is_init_finished(ssl_) == 1) {
            shutdownSent_ = true;
            socket_ = &socket;
            ERR_clear_error();
            SSL_shutdown(ssl_);
            boost::system::error_code ignored;
            flush(socket, ignored);
            ERR_clear_error();
        }
        return pendingOutput();
    }

private:
    bool pendingOutput() const noexcept { return pendingSent_ < pending_.size(); }

    // Sends kept ciphertext. True once none is left; false with `ec` clear
    // when the kernel is full, or with the socket's error. Under mutex_.
    bool flush(Socket& socket, boost::system::error_code& ec)
    {
        ec = {};
        while (pendingOutput()) {
            const std::size_t sent =
                socket.write_some(boost::asio::buffer(pending_.data() + pendingSent_, pending_.size() - pendingSent_), ec);
            if (ec == boost::asio::error::would_block) {
                ec = {};
                return false;
            }
            if (ec)
                return false;
            pendingSent_ += sent;
        }
        // A connection that has caught up holds no ciphertext memory.
        if (!pending_.empty()) {
            std::string().swap(pending_);
            pendingSent_ = 0;
        }
        return true;
    }


    static constexpr std::size_t recordSize = 16 * 1024;  // TLS's largest plaintext record
    static constexpr std::size_t inboxSize = recordSize + 512;  // a whole record with its overhead
    static constexpr std::size_t sslPrefetchBytes = 512;  // see prefetch()

    static std::array<char, recordSize>& recordScratch()
    {
        thread_local std::array<char, recordSize> scratch;
        return scratch;
    }

    // What a failed SSL_read_ex or SSL_write_ex means to the caller.
    boost::system::error_code failure(int reason)
    {
        switch (reason) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
            ERR_clear_error();
            if (ioError_)
                return ioError_;
            return boost::asio::error::would_block;
        case SSL_ERROR_ZERO_RETURN:
            // close_notify, or (SSL_OP_IGNORE_UNEXPECTED_EOF) the TCP end
            // without one: WebSocket's own close handshake tells the two apart.
            ERR_clear_error();
            return boost::asio::error::eof;
        case SSL_ERROR_SYSCALL:
            ERR_clear_error();
            return ioError_ ? ioError_ : boost::system::error_code(boost::asio::error::eof);
        default:
            if (ioError_) {
                ERR_clear_error();
                return ioError_;
            }
            return lastOpenSslError();
        }
    }

    static TlsChannel& self(BIO* bio) noexcept { return *static_cast<TlsChannel*>(BIO_get_data(bio)); }

    static int bioWrite(BIO* bio, const char* data, int length)
    {
        TlsChannel& channel = self(bio);
        BIO_clear_retry_flags(bio);
        const auto size = static_cast<std::size_t>(length);
        std::size_t sent = 0;
        if (!channel.pendingOutput()) {
            boost::system::error_code ec;
            sent = channel.socket_->write_some(boost::asio::buffer(data, size), ec);
            if (ec == boost::asio::error::would_block) {
                sent = 0;
            } else if (ec) {
                channel.ioError_ = ec;
                return -1;
            }
        }
        if (sent < size) {
            try {
                channel.pending_.append(data + sent, size - sent);
            } catch (const std::bad_alloc&) {
                channel.ioError_ = make_error_code(boost::system::errc::not_enough_memory);
                return -1;
            }
        }
        return length;
    }

    static int bioRead(BIO* bio, char* data, int length)
    {
        TlsChannel& channel = self(bio);
        BIO_clear_retry_flags(bio);
        boost::system::error_code ec;
        std::size_t size = 0;
        if (channel.inboxBegin_ < channel.inboxEnd_) {
            size = std::min(static_cast<std::size_t>(length), channel.inboxEnd_ - channel.inboxBegin_);
            std::memcpy(data, channel.inbox_.get() + channel.inboxBegin_, size);
            channel.inboxBegin_ += size;
        } else {
            size = channel.socket_->read_some(boost::asio::buffer(data, static_cast<std::size_t>(length)), ec);
        }
        if (ec == boost::asio::error::would_block) {
            BIO_set_retry_read(bio);
            return -1;
        }
        if (ec == boost::asio::error::eof)
            return 0;
        if (ec) {
            channel.ioError_ = ec;
            return -1;
        }
        if (!channel.handshakeDone_) {
            if (SSL_is_init_finished(channel.ssl_) == 1) {
                channel.handshakeDone_ = true;
            } else if ((channel.handshakeBytes_ += size) > channel.handshakeLimit_) {
                channel.ioError_ = boost::beast::http::error::header_limit;
                return -1;
            }
        }
        return static_cast<int>(size);
    }

    static long bioControl(BIO*, int command, long, void*)
    {
        return command == BIO_CTRL_FLUSH ? 1 : 0;  // writes are never buffered by the BIO
    }

    static int bioCreate(BIO*) { return 1; }
    static int bioDestroy(BIO*) { return 1; }

    static BIO_METHOD* method()
    {
        static BIO_METHOD* const made = [] {
            BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "finch socket");
            if (m) {
                BIO_meth_set_write(m, &bioWrite);
                BIO_meth_set_read(m, &bioRead);
                BIO_meth_set_ctrl(m, &bioControl);
                BIO_meth_set_create(m, &bioCreate);
                BIO_meth_set_destroy(m, &bioDestroy);
            }
            return m;
        }();
        return made;
    }

    std::mutex mutex_;  // one OpenSSL call at a time: see the class comment
    SSL* ssl_;
    Socket* socket_ = nullptr;  // the transport's socket during a call: the transport moves, the channel does not
    std::unique_ptr<char[]> inbox_;  // see inbox()
    std::size_t inboxBegin_ = 0;
    std::size_t inboxEnd_ = 0;
    std::string pending_;       // ciphertext the kernel has not taken
    std::size_t pendingSent_ = 0;
    std::size_t handshakeBytes_ = 0;
    std::size_t handshakeLimit_ = std::numeric_limits<std::size_t>::max();
    boost::system::error_code ioError_;  // the socket's failure, which OpenSSL only sees as -1
    bool owed_ = false;
    bool receiving_ = false;    // a receive into the inbox is pending
    bool readBlocked_ = false;  // the last read wanted bytes from the socket
    bool handshakeDone_ = false;
    bool shutdownSent_ = false;
};

}  // namespace finch::detail

#endif
