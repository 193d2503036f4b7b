#include "LuaDsp.h"

#include "Clock.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <limits>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}

namespace pg
{
    namespace
    {
        // Lua's allocator: our ManagedHeap, which counts bytes and refuses past the ceiling. Lua then
        // runs an emergency collection and, if that does not help, raises "not enough memory".
        void* heapAlloc (void* ud, void* ptr, size_t osize, size_t nsize)
        {
            return static_cast<ManagedHeap*> (ud)->reallocate (ptr, osize, nsize);
        }

        LuaDsp* self (lua_State* L)
        {
            lua_getfield (L, LUA_REGISTRYINDEX, "pauseguard.dsp");
            auto* dsp = static_cast<LuaDsp*> (lua_touserdata (L, -1));
            lua_pop (L, 1);
            return dsp;
        }

        void budgetHook (lua_State* L, lua_Debug*)
        {
            auto* dsp = self (L);
            if (dsp != nullptr && dsp->budgetDeadline > 0.0 && nowSeconds() > dsp->budgetDeadline)
            {
                dsp->budgetDeadline = 0.0;
                luaL_where (L, 0); // inside a hook, level 0 is the function that was interrupted
                lua_pushfstring (L, "script did not return within its time budget of %d ms (endless loop?)",
                                 static_cast<int> (dsp->armedBudgetSeconds * 1000.0));
                lua_concat (L, 2);
                lua_error (L);
            }
        }

        // print() writes to the engine's console (drained by the editor), never to stdout.
        int sandboxPrint (lua_State* L)
        {
            std::string line;
            const int n = lua_gettop (L);
            for (int i = 1; i <= n; ++i)
            {
                size_t len = 0;
                const char* s = luaL_tolstring (L, i, &len);
                if (i > 1)
                    line += '\t';
                line.append (s, len);
                lua_pop (L, 1);
            }
            if (auto* dsp = self (L))
                dsp->addPrinted (std::move (line));
            return 0;
        }

        // collectgarbage is reduced to "count": the engine, not the script, decides collector work.
        int sandboxCollectGarbage (lua_State* L)
        {
            const char* opt = luaL_optstring (L, 1, "count");
            if (std::string_view (opt) != "count")
                return luaL_error (L, "collectgarbage('%s') is not available: the engine schedules the collector", opt);
            const int kb = lua_gc (L, LUA_GCCOUNT);
            const int b = lua_gc (L, LUA_GCCOUNTB);
            lua_pushnumber (L, static_cast<lua_Number> (kb) + static_cast<lua_Number> (b) / 1024.0);
            return 1;
        }
    } // namespace

    namespace
    {
        // Loaded before every script: the `pg` helper library, and the wrapper that maps the host's
        // macro knobs (params.macro1..8, 0..1) to the ranges the script declares in `macros`.
        const char* const prelude = R"lua(
pg = { sample_rate = 48000 }
function pg.clamp(x, lo, hi) if x < lo then return lo elseif x > hi then return hi end return x end
function pg.lerp(a, b, t) return a + (b - a) * t end
function pg.db_to_gain(db) return 10.0 ^ (db / 20.0) end
function pg.gain_to_db(g) if g <= 1e-12 then return -240.0 end return 20.0 * math.log(g, 10) end
function pg.softclip(x)
    if x > 3.0 then x = 3.0 elseif x < -3.0 then x = -3.0 end
    local x2 = x * x
    return x * (27.0 + x2) / (27.0 + 9.0 * x2)
end
-- A delay line: d:push(x) writes a sample, d:read(k) reads the sample written k pushes ago.
function pg.delay(maxSamples)
    local d = { buf = {}, size = math.max(1, math.floor(maxSamples)), pos = 0 }
    for i = 1, d.size do d.buf[i] = 0.0 end
    function d:push(x) self.pos = self.pos % self.size + 1; self.buf[self.pos] = x end
    function d:read(k) return self.buf[(self.pos - math.floor(k) - 1) % self.size + 1] end
    return d
end
-- A one-pole low-pass: f:set(hz), f:process(x).
function pg.onepole(hz)
    local f = { z = 0.0, a = 0.0 }
    function f:set(cutoff) self.a = 1.0 - math.exp(-2.0 * math.pi * cutoff / pg.sample_rate) end
    function f:process(x) self.z = self.z + self.a * (x - self.z); return self.z end
    f:set(hz)
    return f
end
local macroKeys = { "macro1", "macro2", "macro3", "macro4", "macro5", "macro6", "macro7", "macro8" }
local function applyMacros(p)
    local spec = macros
    if type(spec) ~= "table" then return end
    for i = 1, math.min(#spec, 8) do
        local m = spec[i]
        if type(m) == "table" and type(m.name) == "string" then
            local lo, hi = m.min or 0.0, m.max or 1.0
            p[m.name] = lo + (hi - lo) * (p[macroKeys[i]] or 0.5)
        end
    end
end
function __pauseguard_wrap(process, prepare)
    return function(ch, n, p) applyMacros(p); return process(ch, n, p) end,
           function(rate, maxFrames, channels)
               pg.sample_rate = rate
               if prepare then return prepare(rate, maxFrames, channels) end
           end
end
)lua";
    } // namespace

    LuaDsp::LuaDsp (LuaDspLimits l)
        : limits (l)
    {
    }

    LuaDsp::~LuaDsp() { close(); }

    void LuaDsp::close()
    {
        if (L != nullptr)
            lua_close (L);
        L = nullptr;
        heap.reset();
        paramsRef = channelsRef = processRef = prepareRef = -1;
    }

    bool LuaDsp::fail (std::string message)
    {
        if (heap != nullptr && heap->refusedOnce() && message.find ("not enough memory") != std::string::npos)
            message = "script ran out of memory (ceiling " + std::to_string (limits.memoryLimitBytes >> 20) + " MB)";
        error = std::move (message);
        return false;
    }

    void LuaDsp::armBudget (double seconds)
    {
        armedBudgetSeconds = seconds;
        budgetDeadline = nowSeconds() + seconds;
    }

    std::unique_ptr<Dsp> LuaDsp::restarted() const
    {
        auto fresh = std::make_unique<LuaDsp> (limits);
        if (! fresh->load (loadedSource, loadedName) || ! fresh->prepare (preparedRate, maxFrames, numChannels))
            return nullptr;
        return fresh;
    }

    bool LuaDsp::load (std::string_view source, std::string_view chunkName)
    {
        loadedSource = source;
        loadedName = chunkName;
        close();
        error.clear();
        heap = std::make_unique<ManagedHeap> (limits.memoryLimitBytes);
        L = lua_newstate (heapAlloc, heap.get());
        if (L == nullptr)
            return fail ("could not create a Lua state");

        lua_pushlightuserdata (L, this);
        lua_setfield (L, LUA_REGISTRYINDEX, "pauseguard.dsp");

        // Only the safe standard libraries.
        const luaL_Reg libs[] = { { LUA_GNAME, luaopen_base }, { LUA_TABLIBNAME, luaopen_table }, { LUA_STRLIBNAME, luaopen_string }, { LUA_MATHLIBNAME, luaopen_math }, { LUA_UTF8LIBNAME, luaopen_utf8 }, { LUA_COLIBNAME, luaopen_coroutine } };
        for (const auto& lib : libs)
        {
            luaL_requiref (L, lib.name, lib.func, 1);
            lua_pop (L, 1);
        }
        for (const char* name : { "dofile", "loadfile", "load", "require" })
        {
            lua_pushnil (L);
            lua_setglobal (L, name);
        }
        lua_pushcfunction (L, sandboxPrint);
        lua_setglobal (L, "print");
        lua_pushcfunction (L, sandboxCollectGarbage);
        lua_setglobal (L, "collectgarbage");

        lua_sethook (L, budgetHook, LUA_MASKCOUNT, 10000);

        lua_newtable (L);
        paramsRef = luaL_ref (L, LUA_REGISTRYINDEX);
        for (int i = 0; i < numParameters; ++i)
            parameters[i].dirty = true;
        lua_newtable (L);
        channelsRef = luaL_ref (L, LUA_REGISTRYINDEX);

        if (luaL_loadbufferx (L, prelude, std::strlen (prelude), "=pauseguard", "t") != LUA_OK || lua_pcall (L, 0, 0, 0) != LUA_OK)
            return fail ("the pauseguard library failed to load");

        std::string name ("=");
        name.append (chunkName);
        if (luaL_loadbufferx (L, source.data(), source.size(), name.c_str(), "t") != LUA_OK)
            return fail (lua_tostring (L, -1) != nullptr ? lua_tostring (L, -1) : "script failed to compile");

        armBudget (limits.callBudgetSeconds);
        const int rc = lua_pcall (L, 0, 0, 0);
        budgetDeadline = 0.0;
        if (rc != LUA_OK)
            return fail (lua_tostring (L, -1) != nullptr ? lua_tostring (L, -1) : "script failed to run");

        lua_getglobal (L, "process");
        if (! lua_isfunction (L, -1))
        {
            lua_pop (L, 1);
            return fail (std::string (chunkName) + ": the script does not define process(channels, n, params)");
        }
        // Wrap process and prepare (macros, pg.sample_rate), and read the macro declarations.
        lua_getglobal (L, "__pauseguard_wrap");
        lua_insert (L, -2);
        lua_getglobal (L, "prepare");
        if (lua_pcall (L, 2, 2, 0) != LUA_OK)
            return fail ("could not wrap the script's process function");
        prepareRef = luaL_ref (L, LUA_REGISTRYINDEX);
        processRef = luaL_ref (L, LUA_REGISTRYINDEX);

        macros.clear();
        lua_pushcfunction (L, readMacrosProtected);
        lua_pushlightuserdata (L, this);
        if (lua_pcall (L, 1, 0, 0) != LUA_OK)
            return fail (std::string (chunkName) + ": bad macros table: " + (lua_tostring (L, -1) != nullptr ? lua_tostring (L, -1) : "?"));
        return true;
    }

    int LuaDsp::readMacrosProtected (lua_State* L)
    {
        auto* dsp = static_cast<LuaDsp*> (lua_touserdata (L, 1));
        if (lua_getglobal (L, "macros") == LUA_TTABLE)
        {
            for (int i = 1; i <= 8; ++i)
            {
                if (lua_rawgeti (L, -1, i) == LUA_TTABLE)
                {
                    MacroSpec m;
                    if (lua_getfield (L, -1, "name") == LUA_TSTRING)
                        m.name = lua_tostring (L, -1);
                    lua_getfield (L, -2, "min");
                    m.min = luaL_optnumber (L, -1, 0.0);
                    lua_getfield (L, -3, "max");
                    m.max = luaL_optnumber (L, -1, 1.0);
                    lua_pop (L, 3);
                    if (! m.name.empty())
                        dsp->macros.push_back (m);
                }
                lua_pop (L, 1);
            }
        }
        return 0;
    }

    // Inside a protected call only (it may allocate).
    void LuaDsp::flushParameters()
    {
        lua_rawgeti (L, LUA_REGISTRYINDEX, paramsRef);
        for (int i = 0; i < numParameters; ++i)
        {
            auto& p = parameters[i];
            if (p.dirty)
            {
                lua_pushnumber (L, p.value);
                lua_setfield (L, -2, p.name);
                p.dirty = false;
            }
        }
        lua_pop (L, 1);
    }

    int LuaDsp::prepareProtected (lua_State* L)
    {
        auto* dsp = static_cast<LuaDsp*> (lua_touserdata (L, 1));
        const double sampleRate = lua_tonumber (L, 2);

        lua_rawgeti (L, LUA_REGISTRYINDEX, dsp->channelsRef);
        for (int c = 1; c <= dsp->numChannels; ++c)
        {
            lua_createtable (L, dsp->maxFrames, 0);
            for (int i = 1; i <= dsp->maxFrames; ++i)
            {
                lua_pushnumber (L, 0.0);
                lua_rawseti (L, -2, i);
            }
            lua_rawseti (L, -2, c);
        }
        lua_pop (L, 1);

        dsp->flushParameters();
        lua_rawgeti (L, LUA_REGISTRYINDEX, dsp->prepareRef);
        lua_pushnumber (L, sampleRate);
        lua_pushinteger (L, dsp->maxFrames);
        lua_pushinteger (L, dsp->numChannels);
        lua_call (L, 3, 0);
        return 0;
    }

    bool LuaDsp::prepare (double sampleRate, int maxFramesIn, int numChannelsIn)
    {
        if (! isReady())
            return false;
        maxFrames = maxFramesIn;
        numChannels = numChannelsIn;
        preparedRate = sampleRate;
        lua_pushcfunction (L, prepareProtected);
        lua_pushlightuserdata (L, this);
        lua_pushnumber (L, sampleRate);
        armBudget (limits.callBudgetSeconds);
        const int rc = lua_pcall (L, 2, 0, 0);
        budgetDeadline = 0.0;
        if (rc != LUA_OK)
            return fail (lua_tostring (L, -1) != nullptr ? lua_tostring (L, -1) : "prepare failed");
        return true;
    }

    int LuaDsp::processProtected (lua_State* L)
    {
        auto* dsp = static_cast<LuaDsp*> (lua_touserdata (L, 1));
        const int n = dsp->ioNumFrames;
        const int nch = std::min (dsp->ioNumChannels, dsp->numChannels);

        lua_rawgeti (L, LUA_REGISTRYINDEX, dsp->channelsRef); // [2] channels
        for (int c = 0; c < nch; ++c)
        {
            if (lua_rawgeti (L, 2, c + 1) != LUA_TTABLE)
            {
                lua_pop (L, 1);
                lua_createtable (L, n, 0);
                lua_pushvalue (L, -1);
                lua_rawseti (L, 2, c + 1);
            }
            const float* in = dsp->ioChannels[c];
            for (int i = 0; i < n; ++i)
            {
                lua_pushnumber (L, static_cast<lua_Number> (in[i]));
                lua_rawseti (L, -2, i + 1);
            }
            lua_pop (L, 1);
        }

        dsp->flushParameters();

        lua_rawgeti (L, LUA_REGISTRYINDEX, dsp->processRef);
        lua_pushvalue (L, 2);
        lua_pushinteger (L, n);
        lua_rawgeti (L, LUA_REGISTRYINDEX, dsp->paramsRef);
        lua_call (L, 3, 1);

        // process may fill the channel tables in place or return a table of channel tables.
        const int source = lua_istable (L, -1) ? lua_gettop (L) : 2;
        for (int c = 0; c < nch; ++c)
        {
            float* out = dsp->ioChannels[c];
            if (lua_rawgeti (L, source, c + 1) != LUA_TTABLE)
            {
                lua_pop (L, 1);
                continue; // a channel the script did not produce keeps its input
            }
            for (int i = 0; i < n; ++i)
            {
                lua_rawgeti (L, -1, i + 1);
                int isNumber = 0;
                const auto v = static_cast<float> (lua_tonumberx (L, -1, &isNumber));
                // Non-finite or subnormal results (the worker has no flush-to-zero) are silence.
                out[i] = (isNumber != 0 && std::isfinite (v) && std::abs (v) >= std::numeric_limits<float>::min()) ? v : 0.0f;
                lua_pop (L, 1);
            }
            lua_pop (L, 1);
        }
        return 0;
    }

    bool LuaDsp::process (float* const* channels, int numChannelsIn, int numFrames)
    {
        if (! isReady())
            return false;
        ioChannels = channels;
        ioNumChannels = numChannelsIn;
        ioNumFrames = std::min (numFrames, maxFrames);
        lua_settop (L, 0);
        lua_pushcfunction (L, processProtected);
        lua_pushlightuserdata (L, this);
        armBudget (processBudget (limits.callBudgetSeconds, limits.renderCallBudgetSeconds));
        const int rc = lua_pcall (L, 1, 0, 0);
        budgetDeadline = 0.0;
        if (rc != LUA_OK)
            return fail (lua_tostring (L, -1) != nullptr ? lua_tostring (L, -1) : "process failed");
        return true;
    }

    void LuaDsp::setParameter (const char* name, double value)
    {
        for (int i = 0; i < numParameters; ++i)
        {
            if (parameters[i].name == name || std::string_view (parameters[i].name) == name)
            {
                parameters[i].dirty = parameters[i].dirty || parameters[i].value != value;
                parameters[i].value = value;
                return;
            }
        }
        if (numParameters < maxParameters)
            parameters[numParameters++] = { name, value, true };
    }

    void LuaDsp::setAutomaticCollection (bool enabled)
    {
        if (L != nullptr)
            lua_gc (L, enabled ? LUA_GCRESTART : LUA_GCSTOP);
    }

    void LuaDsp::setIncrementalPacing (int pausePercent, int stepMultiplierPercent, int stepSizeLog2)
    {
        if (L != nullptr)
            lua_gc (L, LUA_GCINC, pausePercent, stepMultiplierPercent, stepSizeLog2);
    }

    void LuaDsp::setGenerational()
    {
        if (L != nullptr)
            lua_gc (L, LUA_GCGEN, 0, 0);
    }

    void LuaDsp::reserveHeapGrowth (int percent) noexcept
    {
        if (L == nullptr)
            return;
        // Three quarters of the growth: Lua's collector sweeps while the script allocates, so the
        // heap's blocks peak below the pause (1.76x the live heap at pause 200 with the built-in
        // script), and a page mapped here and never used is memory the instance holds for nothing.
        const size_t live = heap->usedBytes();
        heap->reserveFor (live + live / 400 * static_cast<size_t> (std::max (percent - 100, 0)) * 3);
    }

    double LuaDsp::fullCollection()
    {
        if (L == nullptr)
            return 0.0;
        const double t0 = nowSeconds();
        lua_gc (L, LUA_GCCOLLECT);
        return nowSeconds() - t0;
    }

    double LuaDsp::collectorStep (bool* cycleFinished)
    {
        if (L == nullptr)
            return 0.0;
        const double t0 = nowSeconds();
        const int done = lua_gc (L, LUA_GCSTEP, 0);
        if (cycleFinished != nullptr)
            *cycleFinished = done != 0;
        return nowSeconds() - t0;
    }
} // namespace pg
