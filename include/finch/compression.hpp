#ifndef FINCH_COMPRESSION_HPP
#define FINCH_COMPRESSION_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace finch {

/// Settings of permessage-deflate (RFC 7692), the WebSocket compression every
/// browser offers. Give them to `finch::permessageDeflate()`
/// (`<finch/permessage_deflate.hpp>`) and put the result in
/// `Options::compression`.
///
/// How finch compresses, and why it costs no memory per connection:
///
/// - The server never keeps its compression context between messages: it
///   always answers `server_no_context_takeover`, and compresses each message
///   on its own with one zlib deflater per thread, reset per message. So an
///   idle connection holds no zlib state, and the compressed frame of a
///   broadcast is the same for every receiver: it is built once and shared.
/// - It asks the client for the same (`client_no_context_takeover`, which
///   RFC 7692 lets a server ask of any client), and inflates with one zlib
///   inflater per thread. With `clientContextTakeover`, a client keeps its
///   context instead: the connection then keeps the client's last window
///   (512 bytes when the client lets the server choose its window size, as
///   browsers do; 32 KiB when it does not), and nothing else.
/// - A message whose payload is smaller than `threshold`, or that would not
///   shrink, is sent plain (RFC 7692 lets each message choose).
struct PerMessageDeflate {
    /// Messages whose payload is shorter, in bytes, are sent uncompressed:
    /// compressing a short message costs more time than the bytes it saves.
    /// 1 KiB by default, as Node's `ws`. Zero compresses every message.
    std::size_t threshold = 1024;

    /// zlib's compression level, 1 (fastest) to 9 (smallest). 6, zlib's
    /// default, compresses JSON nearly as well as 9 at a fraction of its time.
    int level = 6;

    /// zlib's `memLevel`, 1 to 9: the memory of each thread's deflater (its
    /// hash table), against compression ratio and speed. 8 by default (zlib's
    /// default): with the window of 32 KiB, 256 KiB per thread that sends.
    int memLevel = 8;

    /// The largest window the server compresses with, as a power of two, 9
    /// to 15 (512 bytes to 32 KiB). A client may ask for less
    /// (`server_max_window_bits`); it then gets its own compressed frame.
    /// 8, which RFC 7692 allows, is refused (zlib cannot compress with a
    /// window of 256 bytes): such an offer is answered without compression.
    int serverMaxWindowBits = 15;

    /// Let clients keep their compression context between messages instead
    /// of asking them not to. Off by default: some clients compress better
    /// with it, but every connection must then keep the client's last window
    /// (see above). Turn it on only for clients that refuse a response with
    /// `client_no_context_takeover` (none of the common ones do).
    bool clientContextTakeover = false;
};

/// What `Compression::inflate` came to.
enum class InflateResult {
    /// The message was inflated whole.
    ok,
    /// The inflated message grew past the limit; inflating stopped there.
    tooBig,
    /// The bytes are not DEFLATE data, or they need a window the message
    /// did not have.
    invalid,
};

/// The compression codec behind `Options::compression`: the zlib work of
/// permessage-deflate, behind which finch does the negotiation, the framing
/// and the limits. finch's own is `finch::permessageDeflate()`; an
/// application may implement one over another DEFLATE library.
///
/// @par Thread Safety
/// A manager calls `compress` and `inflate` from any thread, concurrently:
/// an implementation keeps its working state per thread (or locks).
class Compression {
public:
    virtual ~Compression() = default;

    /// The settings this codec was made with.
    const PerMessageDeflate& settings() const noexcept { return settings_; }

    /// Compresses `payload` as one message with a fresh context and a window
    /// of `1 << windowBits` bytes (9 to 15), appending to `out` the bytes a
    /// permessage-deflate frame carries: a raw DEFLATE stream ended by a sync
    /// flush, without its last four bytes (`00 00 ff ff`, RFC 7692 7.2.1).
    /// False if it could not (no memory): the message is then sent plain.
    virtual bool compress(std::string_view payload, int windowBits, std::string& out) const = 0;

    /// Inflates `compressed`, the payload of a message that came with RSV1
    /// set, after the four bytes `00 00 ff ff` the sender left out (RFC 7692
    /// 7.2.2), appending the result to `out`, and stops with `tooBig` as soon
    /// as `out` grows more than `limit` bytes. `window`: null when the client
    /// resets its context per message; otherwise the client's history, as
    /// the previous message left it, used as the preset dictionary and then
    /// replaced by the last `1 << windowBits` bytes of history.
    virtual InflateResult inflate(std::string_view compressed, std::size_t limit, std::string& out,
        std::string* window, int windowBits) const = 0;

protected:
    /// For implementations: keeps `settings`, which `settings()` returns.
    explicit Compression(const PerMessageDeflate& settings)
        : settings_(settings)
    {
    }

private:
    PerMessageDeflate settings_;
};

}  // namespace finch

#endif
