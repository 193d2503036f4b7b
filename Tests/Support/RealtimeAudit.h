#pragma once

// Counts, per thread, the calls that a real-time thread must never make: the allocator
// (malloc/calloc/realloc/free/aligned allocation, hence operator new/delete) and the locking or
// waiting functions (pthread mutex/rwlock/condition waits, semaphores, sleeps, sched_yield).
// The test executable interposes those symbols; counting is on only inside a ScopedRealtimeAudit.

#include <cstdint>

namespace pgtest
{
    struct AuditCounts
    {
        uint64_t allocations = 0, frees = 0, locks = 0, waits = 0;
        uint64_t total() const noexcept { return allocations + frees + locks + waits; }
    };

    class ScopedRealtimeAudit
    {
    public:
        ScopedRealtimeAudit() noexcept;
        ~ScopedRealtimeAudit() noexcept;
        AuditCounts counts() const noexcept;
    };

    // Whether the interposers are in this executable and see calls (false would make every audit vacuous).
    bool auditIsLive() noexcept;
} // namespace pgtest
