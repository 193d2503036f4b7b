#include "Sha256.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include <unistd.h>

namespace pg
{
    namespace
    {
        constexpr uint32_t roundConstants[64] = {
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
            0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
            0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
            0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
            0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
            0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
        };

        constexpr uint32_t rotr (uint32_t x, int n) noexcept { return (x >> n) | (x << (32 - n)); }
    } // namespace

    void Sha256::compress (const uint8_t* chunk) noexcept
    {
        uint32_t w[64];
        for (int i = 0; i < 16; ++i)
            w[i] = static_cast<uint32_t> (chunk[4 * i]) << 24 | static_cast<uint32_t> (chunk[4 * i + 1]) << 16 | static_cast<uint32_t> (chunk[4 * i + 2]) << 8 | static_cast<uint32_t> (chunk[4 * i + 3]);
        for (int i = 16; i < 64; ++i)
        {
            const uint32_t s0 = rotr (w[i - 15], 7) ^ rotr (w[i - 15], 18) ^ (w[i - 15] >> 3);
            const uint32_t s1 = rotr (w[i - 2], 17) ^ rotr (w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
        for (int i = 0; i < 64; ++i)
        {
            const uint32_t t1 = h + (rotr (e, 6) ^ rotr (e, 11) ^ rotr (e, 25)) + ((e & f) ^ (~e & g)) + roundConstants[i] + w[i];
            const uint32_t t2 = (rotr (a, 2) ^ rotr (a, 13) ^ rotr (a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }

    void Sha256::add (const void* data, size_t bytes) noexcept
    {
        const auto* in = static_cast<const uint8_t*> (data);
        totalBytes += bytes;
        while (bytes > 0)
        {
            const size_t n = std::min (bytes, sizeof (pending) - pendingBytes);
            std::memcpy (pending + pendingBytes, in, n);
            pendingBytes += n;
            in += n;
            bytes -= n;
            if (pendingBytes == sizeof (pending))
            {
                compress (pending);
                pendingBytes = 0;
            }
        }
    }

    std::string Sha256::finishHex()
    {
        const uint64_t bits = totalBytes * 8;
        const uint8_t one = 0x80, zero = 0;
        add (&one, 1);
        while (pendingBytes != 56)
            add (&zero, 1);
        uint8_t length[8];
        for (int i = 0; i < 8; ++i)
            length[i] = static_cast<uint8_t> (bits >> (56 - 8 * i));
        add (length, 8);
        static constexpr char digits[] = "0123456789abcdef";
        std::string hex;
        for (uint32_t word : state)
            for (int shift = 28; shift >= 0; shift -= 4)
                hex += digits[(word >> shift) & 0xf];
        return hex;
    }

    std::string sha256Hex (const std::string& bytes)
    {
        Sha256 h;
        h.add (bytes.data(), bytes.size());
        return h.finishHex();
    }

    std::optional<std::string> fileSha256Hex (const std::string& path)
    {
        std::ifstream in (path, std::ios::binary);
        if (! in)
            return std::nullopt;
        Sha256 h;
        char buffer[65536];
        while (in.read (buffer, sizeof (buffer)) || in.gcount() > 0)
            h.add (buffer, static_cast<size_t> (in.gcount()));
        if (in.bad())
            return std::nullopt;
        return h.finishHex();
    }

    std::optional<std::string> fileSha256Hex (int fd)
    {
        Sha256 h;
        std::vector<char> buffer (65536);
        for (off_t at = 0;;)
        {
            const ssize_t n = pread (fd, buffer.data(), buffer.size(), at);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return std::nullopt;
            if (n == 0)
                return h.finishHex();
            h.add (buffer.data(), static_cast<size_t> (n));
            at += n;
        }
    }
} // namespace pg
