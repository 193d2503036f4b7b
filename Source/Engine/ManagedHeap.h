#pragma once

// The memory behind one Lua state: small blocks (up to 4 KB: a table's array of 256 values) come
// from size-class free lists carved out of 64 KB slabs that are kept until the state closes, and
// move with the state from the loader that warmed it to the pool; large ones go to malloc (a block
// the C library holds stays in the arena of the thread that freed it: the loader's warm-up
// garbage of arrays up to 4 KB cost 1.1 MB per instance there). Freed small blocks
// are reused, never handed back to the C library one by one, so that a collector cycle freeing
// tens of megabytes does not make glibc consolidate its free lists (a multi-millisecond stall at
// the next large allocation). Counts bytes as Lua sees them and refuses past a ceiling.
// Single-threaded: used by the thread that owns the Lua state.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace pg
{
    class ManagedHeap
    {
    public:
        static constexpr size_t granule = 16;
        static constexpr size_t maxSmall = 4096;
        static constexpr size_t slabBytes = 64 * 1024;

        explicit ManagedHeap (size_t limitBytes = SIZE_MAX)
            : limit (limitBytes)
        {
        }
        ~ManagedHeap();
        ManagedHeap (const ManagedHeap&) = delete;
        ManagedHeap& operator= (const ManagedHeap&) = delete;

        // The lua_Alloc contract: nsize == 0 frees; otherwise (re)allocates or returns nullptr.
        void* reallocate (void* ptr, size_t osize, size_t nsize) noexcept;

        // Makes room for the heap to grow to `heapBytes`: maps slabs in, in one region, until the
        // small blocks can reach their share of it (their share of what is in use now), within the
        // ceiling. Every page is mapped in now (ResidentMemory), not by a fault on the
        // real-time thread that first allocates there (in a virtual machine a page fault costs
        // microseconds, and a heap's first cycle faults in megabytes). For the thread that owns the
        // state, before it runs in real time. Returns false if the system refused.
        bool reserveFor (size_t heapBytes) noexcept;

        size_t usedBytes() const noexcept { return used; }
        size_t limitBytes() const noexcept { return limit; }
        bool refusedOnce() const noexcept { return refused; }
        // Bytes obtained from the system (slabs, reserved or not, and large blocks).
        size_t reservedBytes() const noexcept { return reserved; }

    private:
        static size_t classOf (size_t n) noexcept { return (n + granule - 1) / granule; }
        void* allocate (size_t n) noexcept;
        void release (void* p, size_t n) noexcept;

        struct FreeBlock
        {
            FreeBlock* next;
        };
        FreeBlock* freeLists[maxSmall / granule + 1] {};
        bool takeSlab() noexcept;

        std::vector<void*> slabs; // from the C library, one by one
        std::vector<std::pair<char*, size_t>> regions; // mapped in by reserveFor
        std::vector<char*> spareSlabs; // taken, not carved yet
        char* slabCursor = nullptr;
        size_t slabLeft = 0;
        size_t used = 0, limit, reserved = 0;
        size_t smallUsed = 0; // in whole size classes
        bool refused = false;
    };
} // namespace pg
