#pragma once

// The commands (see usage()): each returns the process's exit code.

#include "Options.h"

namespace pauseguard::cli
{
    int demo (const Options& o);
    int soak (const Options& o);
    int profile (const Options& o);
    int render (const Options& o);
    int bench (const Options& o);
    int cost (const Options& o);
    int checkScript (const Options& o);
} // namespace pauseguard::cli
