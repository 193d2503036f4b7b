#include "ManagedHeap.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

using pg::ManagedHeap;

namespace
{
    // Whether the page that holds p is mapped in (resident), without touching it.
    bool resident (const void* p)
    {
        const auto page = static_cast<uintptr_t> (sysconf (_SC_PAGESIZE));
        unsigned char in = 0;
        return mincore (reinterpret_cast<void*> (reinterpret_cast<uintptr_t> (p) & ~(page - 1)), 1, &in) == 0 && (in & 1) != 0;
    }

    struct Blocks
    {
        ManagedHeap& heap;
        std::vector<std::pair<void*, size_t>> held;
        ~Blocks()
        {
            for (auto [p, n] : held)
                heap.reallocate (p, n, 0);
        }
        void* take (size_t n)
        {
            void* p = heap.reallocate (nullptr, 0, n);
            REQUIRE (p != nullptr);
            held.emplace_back (p, n);
            return p;
        }
    };
} // namespace

TEST_CASE ("ManagedHeap: the memory reserved for a heap's growth is mapped in before the blocks are handed out",
           "[engine][heap]")
{
    ManagedHeap heap;
    Blocks blocks { heap, {} };
    // About 1 MB of small blocks, as a Lua heap's records, in whole slabs (the last slab's unused
    // tail was taken before the reservation, and is mapped in as it is used).
    const size_t block = 1000, inClass = 1008, perSlab = ManagedHeap::slabBytes / inClass;
    for (size_t i = 0; i < 16 * perSlab; ++i)
        blocks.take (block);
    const size_t before = heap.reservedBytes();
    REQUIRE (before == 16 * ManagedHeap::slabBytes);
    REQUIRE (heap.reserveFor (64u << 20));
    // The share of small blocks counts whole size classes.
    const double wanted = (64u << 20) * double (inClass) / double (block);
    const size_t reserved = heap.reservedBytes();
    CHECK (double (reserved) >= wanted);
    CHECK (double (reserved) < wanted + ManagedHeap::slabBytes);

    // Every block up to the reservation comes from it: no page of it faults in when first used,
    // and nothing more is taken from the C library.
    int notMapped = 0;
    for (size_t carved = before; carved + inClass <= reserved; carved += inClass)
    {
        if (carved % ManagedHeap::slabBytes + inClass > ManagedHeap::slabBytes)
            carved += ManagedHeap::slabBytes - carved % ManagedHeap::slabBytes; // a slab's tail
        notMapped += resident (blocks.take (block)) ? 0 : 1;
    }
    CHECK (notMapped == 0);
    CHECK (heap.reservedBytes() == reserved);
}

TEST_CASE ("ManagedHeap reserves for its small blocks only, and within its ceiling", "[engine][heap]")
{
    SECTION ("half the heap in large blocks (which the C library holds): half the growth in slabs")
    {
        ManagedHeap heap;
        Blocks blocks { heap, {} };
        for (int i = 0; i < 256; ++i)
        {
            blocks.take (ManagedHeap::maxSmall);
            blocks.take (ManagedHeap::maxSmall + 1);
        }
        const size_t large = 256 * (ManagedHeap::maxSmall + 1);
        REQUIRE (heap.reserveFor (heap.usedBytes() * 8));
        const double slabs = static_cast<double> (heap.reservedBytes() - large);
        CHECK (slabs == Approx (static_cast<double> (heap.usedBytes() * 4)).margin (ManagedHeap::slabBytes));
    }
    SECTION ("never past the heap's ceiling")
    {
        ManagedHeap heap (4u << 20);
        Blocks blocks { heap, {} };
        blocks.take (512);
        REQUIRE (heap.reserveFor (size_t (1) << 40));
        CHECK (heap.reservedBytes() <= (4u << 20) + ManagedHeap::slabBytes);
        CHECK (heap.reservedBytes() >= (4u << 20) - ManagedHeap::slabBytes);
    }
    SECTION ("an empty heap takes nothing")
    {
        ManagedHeap heap;
        REQUIRE (heap.reserveFor (64u << 20));
        CHECK (heap.reservedBytes() == 0);
    }
}
