#ifndef FINCH_MESSAGE_KIND_HPP
#define FINCH_MESSAGE_KIND_HPP

namespace finch {

/// The two kinds of WebSocket data message (RFC 6455 5.6).
///
/// A text message is UTF-8: finch checks every byte of what it receives and
/// fails a client that sends anything else (close code 1007). A binary
/// message may hold any bytes.
enum class MessageKind : unsigned char {
    /// UTF-8 text (opcode 1).
    text,
    /// Any bytes (opcode 2).
    binary,
};

}  // namespace finch

#endif
