// SHA-256 (Sha256.h) against the FIPS 180-4 examples.

#include "Sha256.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

TEST_CASE ("SHA-256: the standard's examples, one block, two blocks, a million bytes, a file", "[engine][sha256]")
{
    CHECK (pg::sha256Hex ("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK (pg::sha256Hex ("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK (pg::sha256Hex ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const std::string million (1000000, 'a');
    CHECK (pg::sha256Hex (million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    const auto path = (std::filesystem::temp_directory_path() / ("pauseguard-sha-" + std::to_string (getpid()))).string();
    std::ofstream (path, std::ios::binary) << million;
    CHECK (pg::fileSha256Hex (path) == pg::sha256Hex (million));
    std::remove (path.c_str());
    CHECK_FALSE (pg::fileSha256Hex (path).has_value());
}
