#include "ManagedHeap.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace pg
{
    ManagedHeap::~ManagedHeap()
    {
        for (void* s : slabs)
            std::free (s);
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
        if (auto* block = freeLists[c])
        {
            freeLists[c] = block->next;
            return block;
        }
        const size_t size = c * granule;
        if (slabLeft < size)
        {
            // The slab's tail is too small for this class: give it to the class that fits it.
            if (slabLeft >= granule)
                release (slabCursor, slabLeft - slabLeft % granule);
            void* slab = std::malloc (slabBytes);
            if (slab == nullptr)
                return nullptr;
            try
            {
                slabs.push_back (slab);
            }
            catch (...)
            {
                std::free (slab);
                return nullptr;
            }
            reserved += slabBytes;
            slabCursor = static_cast<char*> (slab);
            slabLeft = slabBytes;
        }
        void* p = slabCursor;
        slabCursor += size;
        slabLeft -= size;
        return p;
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
