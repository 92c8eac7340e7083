#ifndef FINCH_DETAIL_DEFLATE_ZLIB_COMPRESSION_HPP
#define FINCH_DETAIL_DEFLATE_ZLIB_COMPRESSION_HPP

#include <finch/compression.hpp>

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace finch::detail {

// A raw zlib deflater (no zlib header: RFC 7692 frames carry raw DEFLATE).
class ZlibDeflater {
public:
    ZlibDeflater(int level, int windowBits, int memLevel)
        : level_(level)
        , windowBits_(windowBits)
        , memLevel_(memLevel)
    {
        ok_ = deflateInit2(&stream_, level, Z_DEFLATED, -windowBits, memLevel, Z_DEFAULT_STRATEGY) == Z_OK;
    }
    ~ZlibDeflater()
    {
        if (ok_)
            deflateEnd(&stream_);
    }
    ZlibDeflater(const ZlibDeflater&) = delete;
    ZlibDeflater& operator=(const ZlibDeflater&) = delete;

    bool matches(int level, int windowBits, int memLevel) const noexcept
    {
        return level_ == level && windowBits_ == windowBits && memLevel_ == memLevel;
    }

    bool compress(std::string_view payload, std::string& out)
    {
        if (!ok_ || deflateReset(&stream_) != Z_OK)
            return false;
        const std::size_t start = out.size();
        // Enough for nearly every message at once; the loop grows it for the rest.
        std::size_t room = static_cast<std::size_t>(deflateBound(&stream_, static_cast<uLong>(payload.size()))) + 16;
        stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
        stream_.avail_in = static_cast<uInt>(payload.size());
        std::size_t used = start;
        for (;;) {
            out.resize(used + room);
            stream_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
            stream_.avail_out = static_cast<uInt>(room);
            const int status = deflate(&stream_, Z_SYNC_FLUSH);
            used = out.size() - stream_.avail_out;
            if (status != Z_OK && status != Z_BUF_ERROR) {
                out.resize(start);
                return false;
            }
            // Done once the input is taken and the flush did not fill the room.
            if (stream_.avail_in == 0 && stream_.avail_out != 0)
                break;
            room = std::max<std::size_t>(room, 4096);
        }
        // The sync flush ends with an empty stored block, 00 00 ff ff, which
        // the frame leaves out (RFC 7692 7.2.1).
        if (used - start < 4) {
            out.resize(start);
            return false;
        }
        out.resize(used - 4);
        return true;
    }

private:
    z_stream stream_{};
    int level_;
    int windowBits_;
    int memLevel_;
    bool ok_ = false;
};

// A raw zlib inflater with the largest window, which reads what any window
// size wrote.
class ZlibInflater {
public:
    ZlibInflater() { ok_ = inflateInit2(&stream_, -15) == Z_OK; }
    ~ZlibInflater()
    {
        if (ok_)
            inflateEnd(&stream_);
    }
    ZlibInflater(const ZlibInflater&) = delete;
    ZlibInflater& operator=(const ZlibInflater&) = delete;

    InflateResult inflate(std::string_view compressed, std::size_t limit, std::string& out, std::string* window,
        int windowBits)
    {
        if (!ok_ || inflateReset(&stream_) != Z_OK)
            return InflateResult::invalid;
        if (window && !window->empty() &&
            inflateSetDictionary(&stream_, reinterpret_cast<const Bytef*>(window->data()),
                static_cast<uInt>(window->size())) != Z_OK)
            return InflateResult::invalid;
        static const unsigned char tail[4] = {0x00, 0x00, 0xff, 0xff};
        const std::size_t start = out.size();
        const std::size_t cap = limit == 0 ? std::size_t(1) << 40 : limit;
        // Room grows as the output does, so that a bomb is found after at most
        // the limit and a little more, never after inflating all of it.
        std::size_t room = std::min<std::size_t>(std::max<std::size_t>(compressed.size() * 4, 4096), cap + 1);
        std::size_t used = start;
        bool tailGiven = false;
        stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
        stream_.avail_in = static_cast<uInt>(compressed.size());
        for (;;) {
            if (stream_.avail_in == 0 && !tailGiven) {
                stream_.next_in = const_cast<Bytef*>(tail);
                stream_.avail_in = 4;
                tailGiven = true;
            }
            out.resize(used + room);
            stream_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
            stream_.avail_out = static_cast<uInt>(room);
            const int status = ::inflate(&stream_, Z_SYNC_FLUSH);
            const bool roomLeft = stream_.avail_out != 0;
            used = out.size() - stream_.avail_out;
            out.resize(used);
            if (used - start > cap) {
                out.resize(start);
                return InflateResult::tooBig;
            }
            if (status == Z_STREAM_END)
                break;  // the sender ended its stream (BFINAL): the message is whole
            if (status != Z_OK && status != Z_BUF_ERROR) {
                out.resize(start);
                return InflateResult::invalid;
            }
            if (roomLeft) {
                // Stopped for want of input.
                if (stream_.avail_in == 0) {
                    if (tailGiven)
                        break;  // all of it inflated
                    continue;
                }
                out.resize(start);
                return InflateResult::invalid;  // input left, room left, and no way on
            }
            // Out of room: grow, never more than one byte past the limit (that
            // byte proves it crossed).
            room = std::min<std::size_t>(
                {std::max<std::size_t>(room, 4096) * 2, cap + 1 - (used - start), std::size_t(1) << 30});
        }
        if (window)
            keepWindow(*window, std::string_view(out).substr(start), windowBits);
        return InflateResult::ok;
    }

private:
    // The last 1 << windowBits bytes of the history: the previous window, then this message.
    static void keepWindow(std::string& window, std::string_view message, int windowBits)
    {
        // A client that asks for 8 may well use zlib, which makes it 9.
        const std::size_t size = std::size_t(1) << std::max(windowBits, 9);
        if (message.size() >= size) {
            window.assign(message.substr(message.size() - size));
            return;
        }
        const std::size_t keep = std::min(window.size(), size - message.size());
        window.erase(0, window.size() - keep);
        window.append(message);
    }

    z_stream stream_{};
    bool ok_ = false;
};

// permessage-deflate on zlib: one inflater and a deflater per window size and
// settings on each thread that uses them, made at its first use and kept for
// the thread's life. No connection owns zlib state.
class ZlibCompression final : public Compression {
public:
    explicit ZlibCompression(const PerMessageDeflate& settings)
        : Compression(settings)
    {
    }

    bool compress(std::string_view payload, int windowBits, std::string& out) const override
    {
        const PerMessageDeflate& s = settings();
        ZlibDeflater* deflater = nullptr;
        for (const auto& each : deflaters())
            if (each->matches(s.level, windowBits, s.memLevel))
                deflater = each.get();
        if (!deflater) {
            deflaters().push_back(std::make_unique<ZlibDeflater>(s.level, windowBits, s.memLevel));
            deflater = deflaters().back().get();
        }
        return deflater->compress(payload, out);
    }

    InflateResult inflate(std::string_view compressed, std::size_t limit, std::string& out, std::string* window,
        int windowBits) const override
    {
        thread_local ZlibInflater inflater;
        return inflater.inflate(compressed, limit, out, window, windowBits);
    }

private:
    // A handful at most: one per window size clients asked for (almost always just 15).
    static std::vector<std::unique_ptr<ZlibDeflater>>& deflaters()
    {
        thread_local std::vector<std::unique_ptr<ZlibDeflater>> each;
        return each;
    }
};

}  // namespace finch::detail

#endif
