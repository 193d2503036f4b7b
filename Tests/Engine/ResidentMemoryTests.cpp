// ResidentArray: zeroed memory whose pages are all mapped when allocate() returns.

#include "ResidentMemory.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>

namespace
{
    // How many of the pages under [data, data + bytes) are resident (mincore).
    size_t residentPages (const void* data, size_t bytes, size_t& pages)
    {
        const auto page = static_cast<uintptr_t> (::sysconf (_SC_PAGESIZE));
        const auto begin = reinterpret_cast<uintptr_t> (data) & ~(page - 1);
        const auto end = reinterpret_cast<uintptr_t> (data) + bytes;
        pages = static_cast<size_t> ((end - begin + page - 1) / page);
        std::vector<unsigned char> in (pages);
        REQUIRE (::mincore (reinterpret_cast<void*> (begin), end - begin, in.data()) == 0);
        size_t n = 0;
        for (auto v : in)
            n += (v & 1u) != 0 ? 1 : 0;
        return n;
    }
} // namespace

TEST_CASE ("ResidentArray: every page is mapped when allocate returns", "[engine][memory]")
{
    pg::ResidentArray<float> a;
    a.allocate (3 << 20); // 12 MB, never touched by the test before the count
    size_t pages = 0;
    CHECK (residentPages (a.data(), a.size() * sizeof (float), pages) == pages);
    CHECK (pages >= 3072);
}
#endif

TEST_CASE ("ResidentArray: zeroed on allocate, again when reused at the same size, and when resized", "[engine][memory]")
{
    struct Item
    {
        int64_t a;
        double b;
    };
    pg::ResidentArray<Item> a;
    CHECK (a.size() == 0);
    CHECK (a.data() == nullptr);

    const auto allZero = [&a] {
        for (size_t i = 0; i < a.size(); ++i)
            if (a[i].a != 0 || a[i].b != 0.0)
                return false;
        return true;
    };
    a.allocate (10000);
    REQUIRE (a.size() == 10000);
    CHECK (allZero());
    for (size_t i = 0; i < a.size(); ++i)
        a[i] = { static_cast<int64_t> (i) + 1, 0.5 };
    const auto* before = a.data();
    a.allocate (10000);
    CHECK (a.data() == before); // the same pages
    CHECK (allZero());
    a[9999] = { 7, 7.0 };
    a.allocate (20000);
    REQUIRE (a.size() == 20000);
    CHECK (allZero());
    a.allocate (0);
    CHECK (a.size() == 0);
    CHECK (a.data() == nullptr);
}
