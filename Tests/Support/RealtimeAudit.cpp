#include "RealtimeAudit.h"

#include <cerrno>
#include <mutex>
#include <cstddef>
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

namespace
{
    thread_local bool auditing = false;
    thread_local pgtest::AuditCounts tlsCounts;

    inline void note (uint64_t pgtest::AuditCounts::*field) noexcept
    {
        if (auditing)
            ++(tlsCounts.*field);
    }

    template <typename Fn>
    Fn next (const char* name) noexcept
    {
        return reinterpret_cast<Fn> (dlsym (RTLD_NEXT, name));
    }

    using MutexFn = int (*) (pthread_mutex_t*);
    using RwFn = int (*) (pthread_rwlock_t*);
    using CondWaitFn = int (*) (pthread_cond_t*, pthread_mutex_t*);
    using CondTimedWaitFn = int (*) (pthread_cond_t*, pthread_mutex_t*, const timespec*);
    using SemFn = int (*) (sem_t*);
    using SemTimedFn = int (*) (sem_t*, const timespec*);
    using NanosleepFn = int (*) (const timespec*, timespec*);
    using ClockNanosleepFn = int (*) (clockid_t, int, const timespec*, timespec*);
    using UsleepFn = int (*) (useconds_t);
    using YieldFn = int (*)();

    struct Real
    {
        MutexFn mutexLock = next<MutexFn> ("pthread_mutex_lock");
        MutexFn mutexTrylock = next<MutexFn> ("pthread_mutex_trylock");
        RwFn rdlock = next<RwFn> ("pthread_rwlock_rdlock");
        RwFn wrlock = next<RwFn> ("pthread_rwlock_wrlock");
        CondWaitFn condWait = next<CondWaitFn> ("pthread_cond_wait");
        CondTimedWaitFn condTimedWait = next<CondTimedWaitFn> ("pthread_cond_timedwait");
        SemFn semWait = next<SemFn> ("sem_wait");
        SemTimedFn semTimedWait = next<SemTimedFn> ("sem_timedwait");
        NanosleepFn nanosleep = next<NanosleepFn> ("nanosleep");
        ClockNanosleepFn clockNanosleep = next<ClockNanosleepFn> ("clock_nanosleep");
        UsleepFn usleep = next<UsleepFn> ("usleep");
        YieldFn yield = next<YieldFn> ("sched_yield");
    };

    const Real& real() noexcept
    {
        static const Real r; // resolved at start-up (see below), never inside an audit
        return r;
    }

    [[maybe_unused]] const bool resolvedAtStartup = (real(), true);
} // namespace

extern "C" {
void* __libc_malloc (size_t);
void* __libc_calloc (size_t, size_t);
void* __libc_realloc (void*, size_t);
void* __libc_memalign (size_t, size_t);
void __libc_free (void*);

void* malloc (size_t n)
{
    note (&pgtest::AuditCounts::allocations);
    return __libc_malloc (n);
}
void* calloc (size_t n, size_t size)
{
    note (&pgtest::AuditCounts::allocations);
    return __libc_calloc (n, size);
}
void* realloc (void* p, size_t n)
{
    note (&pgtest::AuditCounts::allocations);
    return __libc_realloc (p, n);
}
void free (void* p)
{
    if (p != nullptr)
        note (&pgtest::AuditCounts::frees);
    __libc_free (p);
}
void* memalign (size_t alignment, size_t n)
{
    note (&pgtest::AuditCounts::allocations);
    return __libc_memalign (alignment, n);
}
void* aligned_alloc (size_t alignment, size_t n)
{
    note (&pgtest::AuditCounts::allocations);
    return __libc_memalign (alignment, n);
}
int posix_memalign (void** out, size_t alignment, size_t n)
{
    note (&pgtest::AuditCounts::allocations);
    *out = __libc_memalign (alignment, n);
    return *out != nullptr ? 0 : ENOMEM;
}

int pthread_mutex_lock (pthread_mutex_t* m)
{
    note (&pgtest::AuditCounts::locks);
    return real().mutexLock (m);
}
int pthread_mutex_trylock (pthread_mutex_t* m)
{
    note (&pgtest::AuditCounts::locks);
    return real().mutexTrylock (m);
}
int pthread_rwlock_rdlock (pthread_rwlock_t* l)
{
    note (&pgtest::AuditCounts::locks);
    return real().rdlock (l);
}
int pthread_rwlock_wrlock (pthread_rwlock_t* l)
{
    note (&pgtest::AuditCounts::locks);
    return real().wrlock (l);
}
int pthread_cond_wait (pthread_cond_t* c, pthread_mutex_t* m)
{
    note (&pgtest::AuditCounts::waits);
    return real().condWait (c, m);
}
int pthread_cond_timedwait (pthread_cond_t* c, pthread_mutex_t* m, const timespec* t)
{
    note (&pgtest::AuditCounts::waits);
    return real().condTimedWait (c, m, t);
}
int sem_wait (sem_t* s)
{
    note (&pgtest::AuditCounts::waits);
    return real().semWait (s);
}
int sem_timedwait (sem_t* s, const timespec* t)
{
    note (&pgtest::AuditCounts::waits);
    return real().semTimedWait (s, t);
}
int nanosleep (const timespec* a, timespec* b)
{
    note (&pgtest::AuditCounts::waits);
    return real().nanosleep (a, b);
}
int clock_nanosleep (clockid_t c, int f, const timespec* a, timespec* b)
{
    note (&pgtest::AuditCounts::waits);
    return real().clockNanosleep (c, f, a, b);
}
int usleep (useconds_t u)
{
    note (&pgtest::AuditCounts::waits);
    return real().usleep (u);
}
int sched_yield()
{
    note (&pgtest::AuditCounts::waits);
    return real().yield();
}
}

namespace pgtest
{
    ScopedRealtimeAudit::ScopedRealtimeAudit() noexcept
    {
        tlsCounts = {};
        auditing = true;
    }

    ScopedRealtimeAudit::~ScopedRealtimeAudit() noexcept { auditing = false; }

    AuditCounts ScopedRealtimeAudit::counts() const noexcept { return tlsCounts; }

    bool auditIsLive() noexcept
    {
        AuditCounts seen;
        {
            ScopedRealtimeAudit audit;
            // Through libstdc++, as the code under test would call them.
            auto* volatile p = new int (1);
            delete p;
            std::mutex m;
            m.lock();
            m.unlock();
            seen = audit.counts();
        }
        return seen.allocations >= 1 && seen.frees >= 1 && seen.locks >= 1;
    }
} // namespace pgtest
