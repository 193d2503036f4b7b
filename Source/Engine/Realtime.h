#pragma once

// What the real-time code tells the compiler, and what LLVM's RealtimeSanitizer checks. No JUCE here.
//
// PG_NONBLOCKING marks a function that must not allocate, lock, wait or make a blocking syscall
// (clang 20+: [[clang::nonblocking]]). Under -fsanitize=realtime every such call made inside it,
// however deep, aborts with a stack. Other compilers ignore it.
//
// PG_RTSAN_ALLOW_BLOCKING opens a scope where blocking is intended (the offline render's wait
// for the worker, allowed because the host is not playing in real time).

#if defined(__clang__) && __clang_major__ >= 20
#define PG_NONBLOCKING [[clang::nonblocking]]
#else
#define PG_NONBLOCKING
#endif

#if defined(__has_feature)
#if __has_feature(realtime_sanitizer)
#include <sanitizer/rtsan_interface.h>
#define PG_RTSAN_ALLOW_BLOCKING __rtsan::ScopedDisabler pgRtsanAllowBlocking
#endif
#endif

#ifndef PG_RTSAN_ALLOW_BLOCKING
#define PG_RTSAN_ALLOW_BLOCKING \
    do                          \
    {                           \
    } while (false)
#endif
