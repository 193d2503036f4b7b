#include "ChromeTrace.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace pg::trace
{
    namespace
    {
        std::string quoted (const std::string& s)
        {
            std::string q = "\"";
            for (const char c : s)
            {
                if (c == '"' || c == '\\')
                    q += '\\';
                if (static_cast<unsigned char> (c) >= 0x20)
                    q += c;
            }
            return q + "\"";
        }

        class Writer
        {
        public:
            explicit Writer (int64_t origin)
                : zero (origin)
            {
                out << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
            }

            void event (const std::string& fields)
            {
                out << (first ? "" : ",\n") << '{' << fields << '}';
                first = false;
            }

            std::string us (int64_t nanos) const
            {
                char b[32];
                std::snprintf (b, sizeof b, "%.3f", static_cast<double> (nanos - zero) * 1.0e-3);
                return b;
            }

            static std::string durationUs (int64_t nanos)
            {
                char b[32];
                std::snprintf (b, sizeof b, "%.3f", static_cast<double> (std::max<int64_t> (0, nanos)) * 1.0e-3);
                return b;
            }

            static std::string ms (int64_t nanos)
            {
                char b[32];
                std::snprintf (b, sizeof b, "%.3f", static_cast<double> (nanos) * 1.0e-6);
                return b;
            }

            std::string finish()
            {
                out << "\n]}\n";
                return out.str();
            }

        private:
            std::ostringstream out;
            int64_t zero;
            bool first = true;
        };

        std::string where (const Event& e) { return "\"pid\":1,\"tid\":" + std::to_string (e.lane + 1); }

        std::string instanceName (int i) { return "instance " + std::to_string (i); }
    } // namespace

    std::string toChromeJson (const Snapshot& trace, const std::vector<DropoutCause>& causes)
    {
        int64_t origin = INT64_MAX;
        for (const auto& e : trace.events)
            origin = std::min (origin, e.start);
        Writer w (origin == INT64_MAX ? 0 : origin);
        w.event ("\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"args\":{\"name\":\"PauseGuard\"}");
        for (const auto& lane : trace.lanes)
        {
            const auto tid = std::to_string (lane.index + 1);
            w.event ("\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":" + tid + ",\"args\":{\"name\":" + quoted (lane.name) + "}");
            w.event ("\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":1,\"tid\":" + tid + ",\"args\":{\"sort_index\":" + tid + "}");
        }
        for (const auto& e : trace.events)
        {
            const std::string span = ",\"ts\":" + w.us (e.start) + ",\"dur\":" + Writer::durationUs (e.end - e.start) + ",";
            switch (e.kind)
            {
                case Kind::chunk:
                    w.event ("\"ph\":\"X\",\"cat\":\"chunk\",\"name\":" + quoted (instanceName (e.instance)) + span + where (e) + ",\"args\":{\"frames\":" + std::to_string (e.frames) + ",\"late_ms\":" + Writer::ms (e.end - e.due) + ",\"waited_ms\":" + Writer::ms (e.start - e.arrival) + ",\"collector_ms\":" + Writer::ms (e.collectorNanos) + ",\"cpu_ms\":" + (e.cpuNanos >= 0 ? Writer::ms (e.cpuNanos) : std::string ("null")) + "}");
                    break;
                case Kind::nap:
                    w.event ("\"ph\":\"X\",\"cat\":\"nap\",\"name\":\"nap\"" + span + where (e) + ",\"args\":{\"woke_late_ms\":" + (e.due == untilWoken ? std::string ("null") : Writer::ms (e.end - e.due)) + "}");
                    break;
                case Kind::collection:
                    w.event ("\"ph\":\"X\",\"cat\":\"collector\",\"name\":" + quoted (e.value != 0 ? "forced collection" : "full collection") + span + where (e) + ",\"args\":{\"instance\":" + std::to_string (e.instance) + "}");
                    break;
                case Kind::callback:
                case Kind::stall:
                    w.event ("\"ph\":\"X\",\"cat\":\"host\",\"name\":" + quoted (e.kind == Kind::stall ? "stall" : "callback") + span + where (e) + ",\"args\":{\"late_ms\":" + Writer::ms (e.start - e.due) + "}");
                    break;
                case Kind::skip:
                    w.event ("\"ph\":\"i\",\"s\":\"t\",\"cat\":\"chunk\",\"name\":\"skipped input\",\"ts\":" + w.us (e.start) + "," + where (e) + ",\"args\":{\"instance\":" + std::to_string (e.instance) + ",\"frames\":" + std::to_string (e.frames) + "}");
                    break;
                case Kind::latency:
                    w.event ("\"ph\":\"C\",\"name\":" + quoted ("latency, " + instanceName (e.instance)) + ",\"ts\":" + w.us (e.start) + ",\"pid\":1,\"args\":{\"samples\":" + std::to_string (e.value) + "}");
                    break;
                case Kind::dspStart:
                    w.event ("\"ph\":\"i\",\"s\":\"g\",\"cat\":\"dsp\",\"name\":" + quoted (instanceName (e.instance) + ": DSP started") + ",\"ts\":" + w.us (e.start) + "," + where (e));
                    break;
                case Kind::block: // (thousands a second: left out; the analysis uses them)
                case Kind::dropout: // (below, with their causes)
                    break;
            }
        }
        for (const auto& d : causes)
            w.event ("\"ph\":\"i\",\"s\":\"t\",\"cat\":\"dropout\",\"name\":" + quoted ("dropout: " + std::string (causeName (d.cause))) + ",\"ts\":" + w.us (d.dropout.start) + "," + where (d.dropout) + ",\"args\":{\"instance\":" + std::to_string (d.dropout.instance) + ",\"frames\":" + std::to_string (d.dropout.frames) + "}");
        return w.finish();
    }

    bool writeChromeJson (const std::string& path, const Snapshot& trace, const std::vector<DropoutCause>& causes)
    {
        const auto json = toChromeJson (trace, causes);
        std::ofstream f (path, std::ios::binary | std::ios::trunc);
        if (! f)
            return false;
        f << json;
        return static_cast<bool> (f.flush());
    }
} // namespace pg::trace
