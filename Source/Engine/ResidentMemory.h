#pragma once

// Memory for the real-time rings: zeroed and resident (every page mapped) when allocate()
// returns, so neither the audio thread nor the worker takes a page fault on first use.
//
// A vector's zero-fill maps its pages one fault at a time: about 10 ms for the 2.5 MB a stereo
// engine holds, on a virtual machine where a fault costs ~14 us. On Linux the pages come from
// mmap and are mapped in one call (MADV_POPULATE_WRITE, Linux 5.14+; older kernels touch each
// page). Elsewhere the memory is allocated and zeroed.

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>

namespace pg
{
    namespace resident
    {
        // Zeroed, resident memory of at least `bytes`; nullptr if the system refuses. Not real-time.
        void* map (size_t bytes);
        void unmap (void* memory, size_t bytes) noexcept;
    } // namespace resident

    template <typename T>
    class ResidentArray
    {
        static_assert (std::is_trivially_copyable_v<T>);

    public:
        ResidentArray() = default;
        ~ResidentArray() { release(); }
        ResidentArray (const ResidentArray&) = delete;
        ResidentArray& operator= (const ResidentArray&) = delete;

        // Not real-time. `count` elements, every byte zero. The same size again reuses the pages.
        // Throws std::bad_alloc if the system has no memory for it.
        void allocate (size_t newCount)
        {
            if (newCount == count && items != nullptr)
            {
                std::memset (static_cast<void*> (items), 0, count * sizeof (T)); // resident already: no faults
                return;
            }
            release();
            if (newCount == 0)
                return;
            void* memory = resident::map (newCount * sizeof (T));
            if (memory == nullptr)
                throw std::bad_alloc();
            items = static_cast<T*> (memory);
            count = newCount;
        }

        T* data() noexcept { return items; }
        const T* data() const noexcept { return items; }
        size_t size() const noexcept { return count; }
        T& operator[] (size_t i) noexcept { return items[i]; }
        const T& operator[] (size_t i) const noexcept { return items[i]; }

    private:
        void release() noexcept
        {
            resident::unmap (items, count * sizeof (T));
            items = nullptr;
            count = 0;
        }

        T* items = nullptr;
        size_t count = 0;
    };
} // namespace pg
