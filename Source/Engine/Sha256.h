#pragma once

// SHA-256 (FIPS 180-4), for the DSP programs the user allowed: a program is trusted as a file, by
// the hash of its content (DESIGN.md, item 15). No JUCE here.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace pg
{
    class Sha256
    {
    public:
        void add (const void* data, size_t bytes) noexcept;
        // The digest as 64 lowercase hex digits. Call once; add nothing after it.
        std::string finishHex();

    private:
        void compress (const uint8_t* chunk) noexcept;

        uint32_t state[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
        uint8_t pending[64] {};
        size_t pendingBytes = 0;
        uint64_t totalBytes = 0;
    };

    std::string sha256Hex (const std::string& bytes);
    // The hash of a file's content, read through the path as it is now; none if it cannot be read.
    std::optional<std::string> fileSha256Hex (const std::string& path);
    // The hash of an open file's whole content (read from its start, whatever the descriptor's
    // offset); none if it cannot be read.
    std::optional<std::string> fileSha256Hex (int fd);
} // namespace pg
