#include "ManagedHeap.h"

#include "ResidentMemory.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace pg
{
    ManagedHeap::~ManagedHeap()
    {
        for (void* s : slabs)
            std::free (s);
        for (auto [region, bytes] : regions)
            resident::unmap (region, bytes);
    }

    void* ManagedHeap::allocate (size_t n) noexcept
    {
        if (n > maxSmall)
        {
            void* p = std::malloc (n);
            reserved += p != nullptr ? n : 0;
            return p;
        }
        const size_t c = classOf (n);
        const size_t size = c * granule;
        if (auto* block = freeLists[c])
        {
            freeLists[c] = block->next;
            smallUsed += size;
            return block;
        }
        if (slabLeft < size)
        {
            // The slab's tail is too small for this class: give it to the class that fits it.
            if (slabLeft >= granule)
            {
                smallUsed += slabLeft - slabLeft % granule; // (release counts it out again)
                release (slabCursor, slabLeft - slabLeft % granule);
            }
            if (spareSlabs.empty() && ! takeSlab())
                return nullptr;
            slabCursor = spareSlabs.back();
            spareSlabs.pop_back();
            slabLeft = slabBytes;
        }
        void* p = slabCursor;
        slabCursor += size;
        slabLeft -= size;
        smallUsed += size;
        return p;
    }

    bool ManagedHeap::takeSlab() noexcept
    {
        void* slab = std::malloc (slabBytes);
        if (slab == nullptr)
            return false;
        try
        {
            slabs.push_back (slab);
            spareSlabs.push_back (static_cast<char*> (slab));
        }
        catch (...)
        {
            if (! slabs.empty() && slabs.back() == slab)
                slabs.pop_back();
            std::free (slab);
            return false;
        }
        reserved += slabBytes;
        return true;
    }

    bool ManagedHeap::reserveFor (size_t heapBytes) noexcept
    {
        if (used == 0)
            return true;
        const double smallShare = static_cast<double> (smallUsed) / static_cast<double> (used);
        const size_t wanted = static_cast<size_t> (smallShare * static_cast<double> (std::min (heapBytes, limit)));
        size_t have = slabs.size() * slabBytes;
        for (const auto& [region, bytes] : regions)
            have += bytes;
        if (wanted <= have)
            return true;
        const size_t count = (wanted - have + slabBytes - 1) / slabBytes;
        // One region, its pages mapped in one call where the kernel can (ResidentMemory).
        char* region = static_cast<char*> (resident::map (count * slabBytes));
        if (region == nullptr)
            return false;
        try
        {
            regions.emplace_back (region, count * slabBytes);
            spareSlabs.reserve (spareSlabs.size() + count);
        }
        catch (...)
        {
            if (! regions.empty() && regions.back().first == region)
                regions.pop_back();
            resident::unmap (region, count * slabBytes);
            return false;
        }
        // Carved last slab first, so that the blocks follow each other in memory as they are handed out.
        for (size_t i = count; i-- > 0;)
            spareSlabs.push_back (region + i * slabBytes);
        reserved += count * slabBytes;
        return true;
    }

    void ManagedHeap::release (void* p, size_t n) noexcept
    {
        if (n > maxSmall)
        {
            std::free (p);
            reserved -= n;
            return;
        }
        auto* block = static_cast<FreeBlock*> (p);
        const size_t c = classOf (n);
        smallUsed -= c * granule;
        block->next = freeLists[c];
        freeLists[c] = block;
    }

    void* ManagedHeap::reallocate (void* ptr, size_t osize, size_t nsize) noexcept
    {
        const size_t old = ptr != nullptr ? osize : 0;
        if (nsize == 0)
        {
            if (ptr != nullptr)
            {
                release (ptr, old);
                used -= old;
            }
            return nullptr;
        }
        if (nsize > old && used - old + nsize > limit)
        {
            refused = true;
            return nullptr;
        }
        if (ptr != nullptr)
        {
            // Same size class (or both large and realloc can grow in place): keep the block.
            if (old <= maxSmall && nsize <= maxSmall && classOf (old) == classOf (nsize))
            {
                used = used - old + nsize;
                return ptr;
            }
            if (old > maxSmall && nsize > maxSmall)
            {
                void* p = std::realloc (ptr, nsize);
                if (p == nullptr)
                    return nullptr;
                reserved = reserved - old + nsize;
                used = used - old + nsize;
                return p;
            }
        }
        void* p = allocate (nsize);
        if (p == nullptr)
            return nullptr;
        if (ptr != nullptr)
        {
            std::memcpy (p, ptr, std::min (old, nsize));
            release (ptr, old);
        }
        used = used - old + nsize;
        return p;
    }
} // namespace pg
