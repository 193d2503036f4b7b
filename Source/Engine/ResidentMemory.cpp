#include "ResidentMemory.h"

#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 // Linux 5.14+; older headers lack it
#endif
#endif

namespace pg::resident
{
#if defined(__linux__)
    void* map (size_t bytes)
    {
        if (bytes == 0)
            return nullptr;
        void* memory = ::mmap (nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (memory == MAP_FAILED)
            return nullptr;
        // Anonymous pages are zero. Map them all now, in one call where the kernel can.
        if (::madvise (memory, bytes, MADV_POPULATE_WRITE) != 0)
        {
            const auto page = static_cast<size_t> (::sysconf (_SC_PAGESIZE));
            auto* bytesOf = static_cast<volatile unsigned char*> (memory);
            for (size_t i = 0; i < bytes; i += page)
                bytesOf[i] = 0;
        }
        return memory;
    }

    void unmap (void* memory, size_t bytes) noexcept
    {
        if (memory != nullptr)
            ::munmap (memory, bytes);
    }
#else
    void* map (size_t bytes)
    {
        if (bytes == 0)
            return nullptr;
        void* memory = std::malloc (bytes);
        if (memory != nullptr)
            std::memset (memory, 0, bytes);
        return memory;
    }

    void unmap (void* memory, size_t) noexcept { std::free (memory); }
#endif
} // namespace pg::resident
