// beast_raw_echo: the floor of finch's stack. Beast's WebSocket stream with
// nothing on top: no JSON, no envelope, no routing table.
//
//   beast_raw_echo [--port N] [--threads N] [--address 127.0.0.1] [--compression] [--compression-takeover]
//                  [--tls-cert FILE --tls-key FILE]
//
// --compression: permessage-deflate as Beast does it (beast_server.hpp), for
// the compression points of the benchmark and for cases 12 and 13 of
// scripts/autobahn.sh --compression --compare.
//
// --tls-cert and --tls-key: the same over wss:// (beast_server.hpp), the
// floor of finch's TLS echo.
//
// echo: the frame goes back to its sender byte for byte, straight from the
// read buffer. Since the load generator sends {"path":"echo","data":...},
// that is exactly the plain answer every server gives.
//
// It is also the Beast side of scripts/autobahn.sh --compare: the echo keeps
// a message's type (text or binary), messages of up to 16 MiB pass (Beast's
// default read_message_max), and the Autobahn|Testsuite payloads never begin
// with the broadcast or the size prefix below, so there it is a plain Beast
// echo.
//
// broadcast: a frame that begins with {"path":"broadcast" goes, unchanged, to
// every connection, in the chat-multi design of beast_server.hpp. Checking a
// fixed prefix is not JSON routing: it only works because the load generator
// always writes "path" first and without spaces. It makes this server a floor
// for the broadcast too, the cost of the fan-out alone.
//
// size (the large-message mode): a frame that begins with
// {"path":"size","data":" is answered with {"path":"size","data":<length>},
// the length of its data, found the same way: the frame less that prefix and
// the closing "}. The floor of receiving a large message: Beast's own reads
// and unmasking, and no parsing.

#include "beast_server.hpp"

namespace {

struct RawRouter {
    template <class Session>
    void operator()(Session& session, std::string_view frame) const
    {
        constexpr std::string_view broadcastPrefix = R"({"path":"broadcast")";
        constexpr std::string_view sizePrefix = R"({"path":"size","data":")";
        constexpr std::size_t sizeSuffix = 2;  // "}
        if (frame.substr(0, broadcastPrefix.size()) == broadcastPrefix)
            session.hub().broadcast(std::make_shared<const std::string>(frame));
        else if (frame.substr(0, sizePrefix.size()) == sizePrefix && frame.size() >= sizePrefix.size() + sizeSuffix)
            session.deliver(std::make_shared<const std::string>(
                R"({"path":"size","data":)" + std::to_string(frame.size() - sizePrefix.size() - sizeSuffix) + "}"));
        else
            session.echoFrame();
    }
};

}  // namespace

int main(int argc, char** argv)
{
    return bench::runBeastServer<RawRouter>(argc, argv, "beast_raw_echo");
}
