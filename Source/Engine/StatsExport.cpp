#include "StatsExport.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace pg
{
    namespace
    {
        constexpr const char* formatName = "pauseguard-statistics";
        constexpr const char* histogramNames[StatsReport::numHistograms] = { "pauses", "processing", "lateness", "response" };
        constexpr std::pair<const char*, double> percentiles[] = { { "p50_s", 0.5 }, { "p99_s", 0.99 }, { "p999_s", 0.999 } };

        // Calls f (name, field) for every counter, in the files' order.
        template <typename Counters, typename F>
        void forEachCounter (Counters& c, F&& f)
        {
            f ("chunks_processed", c.chunksProcessed);
            f ("frames_processed", c.framesProcessed);
            f ("full_collections", c.fullCollections);
            f ("forced_collections", c.forcedCollections);
            f ("incremental_steps", c.incrementalSteps);
            f ("collector_seconds", c.collectorSeconds);
            f ("dropout_events", c.dropoutEvents);
            f ("dropout_frames", c.dropoutFrames);
            f ("input_overflow_frames", c.inputOverflowFrames);
            f ("skipped_frames", c.skippedFrames);
            f ("unprocessed_frames", c.unprocessedFrames);
            f ("warm_up_dry_frames", c.warmUpDryFrames);
            f ("heap_bytes", c.heapBytes);
            f ("worker_load_percent", c.workerLoadPercent);
            f ("adaptive_growths", c.adaptiveGrowths);
            f ("adaptive_shrinks", c.adaptiveShrinks);
            f ("wanted_dynamic_latency_samples", c.wantedDynamicLatency);
            f ("engine_latency_samples", c.latencySamples);
            f ("script_failed", c.scriptFailed);
        }

        // ---- writing ----------------------------------------------------------------------------

        std::string number (double v)
        {
            if (! std::isfinite (v))
                return "0";
            char buf[64];
            const auto r = std::to_chars (buf, buf + sizeof (buf), v);
            return std::string (buf, r.ptr);
        }

        template <typename T>
        std::string number (T v)
        {
            if constexpr (std::is_same_v<T, bool>)
                return v ? "true" : "false";
            else
                return std::to_string (v);
        }

        template <typename... Parts>
        void append (std::string& s, const Parts&... parts)
        {
            (s.append (std::string_view (parts)), ...);
        }

        // ---- reading ----------------------------------------------------------------------------

        template <typename T>
        bool parseNumber (std::string_view s, T& out)
        {
            if constexpr (std::is_same_v<T, bool>)
            {
                if (s == "true" || s == "1")
                    out = true;
                else if (s == "false" || s == "0")
                    out = false;
                else
                    return false;
                return true;
            }
            else
            {
                const auto r = std::from_chars (s.data(), s.data() + s.size(), out);
                return r.ec == std::errc() && r.ptr == s.data() + s.size();
            }
        }

        // A small JSON reader: the whole grammar (objects, arrays, strings, numbers, literals),
        // numbers kept as their text so that integers and doubles convert exactly.
        struct JsonValue
        {
            enum class Type
            {
                null,
                boolean,
                number,
                string,
                array,
                object
            } type = Type::null;
            std::string text; // number literal, string contents, or "true"/"false"
            std::vector<JsonValue> items;
            std::vector<std::string> keys; // object: keys[i] names items[i]

            const JsonValue* find (std::string_view key) const
            {
                for (size_t i = 0; i < keys.size(); ++i)
                    if (keys[i] == key)
                        return &items[i];
                return nullptr;
            }
        };

        class JsonReader
        {
        public:
            explicit JsonReader (std::string_view t)
                : text (t)
            {
            }

            bool parseDocument (JsonValue& v)
            {
                if (! parseValue (v, 0))
                    return false;
                skipSpace();
                return pos == text.size();
            }

        private:
            void skipSpace()
            {
                while (pos < text.size() && text[pos] != '\0' && std::strchr (" \t\r\n", text[pos]) != nullptr)
                    ++pos;
            }

            bool consume (char c)
            {
                skipSpace();
                if (pos < text.size() && text[pos] == c)
                {
                    ++pos;
                    return true;
                }
                return false;
            }

            bool parseString (std::string& out)
            {
                if (! consume ('"'))
                    return false;
                while (pos < text.size())
                {
                    const char c = text[pos++];
                    if (c == '"')
                        return true;
                    if (c != '\\')
                    {
                        out.push_back (c);
                        continue;
                    }
                    if (pos >= text.size())
                        return false;
                    const char e = text[pos++];
                    switch (e)
                    {
                        case '"':
                            out.push_back ('"');
                            break;
                        case '\\':
                            out.push_back ('\\');
                            break;
                        case '/':
                            out.push_back ('/');
                            break;
                        case 'b':
                            out.push_back ('\b');
                            break;
                        case 'f':
                            out.push_back ('\f');
                            break;
                        case 'n':
                            out.push_back ('\n');
                            break;
                        case 'r':
                            out.push_back ('\r');
                            break;
                        case 't':
                            out.push_back ('\t');
                            break;
                        case 'u':
                        {
                            unsigned code = 0;
                            if (pos + 4 > text.size() || std::from_chars (text.data() + pos, text.data() + pos + 4, code, 16).ptr != text.data() + pos + 4)
                                return false;
                            pos += 4;
                            out.push_back (code < 0x80 ? static_cast<char> (code) : '?'); // our files are ASCII
                            break;
                        }
                        default:
                            return false;
                    }
                }
                return false;
            }

            bool parseValue (JsonValue& v, int depth)
            {
                if (depth > 32)
                    return false;
                skipSpace();
                if (pos >= text.size())
                    return false;
                const char c = text[pos];
                if (c == '{')
                {
                    ++pos;
                    v.type = JsonValue::Type::object;
                    if (consume ('}'))
                        return true;
                    do
                    {
                        std::string key;
                        if (! parseString (key) || ! consume (':'))
                            return false;
                        v.keys.push_back (std::move (key));
                        v.items.emplace_back();
                        if (! parseValue (v.items.back(), depth + 1))
                            return false;
                    } while (consume (','));
                    return consume ('}');
                }
                if (c == '[')
                {
                    ++pos;
                    v.type = JsonValue::Type::array;
                    if (consume (']'))
                        return true;
                    do
                    {
                        v.items.emplace_back();
                        if (! parseValue (v.items.back(), depth + 1))
                            return false;
                    } while (consume (','));
                    return consume (']');
                }
                if (c == '"')
                {
                    v.type = JsonValue::Type::string;
                    return parseString (v.text);
                }
                for (const char* literal : { "true", "false", "null" })
                {
                    if (text.substr (pos, std::strlen (literal)) == literal)
                    {
                        pos += std::strlen (literal);
                        v.type = literal[0] == 'n' ? JsonValue::Type::null : JsonValue::Type::boolean;
                        v.text = literal;
                        return true;
                    }
                }
                const size_t start = pos;
                while (pos < text.size() && text[pos] != '\0' && std::strchr ("+-0123456789.eE", text[pos]) != nullptr)
                    ++pos;
                if (pos == start)
                    return false;
                v.type = JsonValue::Type::number;
                v.text = std::string (text.substr (start, pos - start));
                double check = 0.0;
                return parseNumber (v.text, check);
            }

            std::string_view text;
            size_t pos = 0;
        };

        template <typename T>
        bool readJson (const JsonValue* v, T& out)
        {
            if (v == nullptr)
                return false;
            if constexpr (std::is_same_v<T, bool>)
                return v->type == JsonValue::Type::boolean && parseNumber (v->text, out);
            else
                return v->type == JsonValue::Type::number && parseNumber (v->text, out);
        }

        std::vector<std::string_view> split (std::string_view line, char sep)
        {
            std::vector<std::string_view> fields;
            size_t start = 0;
            for (;;)
            {
                const size_t end = line.find (sep, start);
                fields.push_back (line.substr (start, end == std::string_view::npos ? std::string_view::npos : end - start));
                if (end == std::string_view::npos)
                    return fields;
                start = end + 1;
            }
        }
    } // namespace

    const char* StatsReport::histogramName (int index) noexcept
    {
        return index >= 0 && index < numHistograms ? histogramNames[index] : "";
    }

    StatsReport captureStatistics (const LatencyEngine& engine)
    {
        StatsReport r;
        r.sampleRate = engine.getSampleRate();
        r.blockSize = engine.getMaxBlockSize();
        r.latencySamples = engine.getLatencySamples();
        r.counters = engine.getCounters();
        r.histograms[StatsReport::pauses] = engine.getPauseHistogram();
        r.histograms[StatsReport::processing] = engine.getProcessingHistogram();
        r.histograms[StatsReport::lateness] = engine.getLatenessHistogram();
        r.histograms[StatsReport::response] = engine.getResponseHistogram();
        return r;
    }

    std::string statisticsToCsv (const StatsReport& r)
    {
        std::string s = "key,value\n";
        const auto row = [&s] (std::string_view key, const std::string& value) { append (s, key, ",", value, "\n"); };
        row ("format", formatName);
        row ("version", number (StatsReport::formatVersion));
        row ("sample_rate_hz", number (r.sampleRate));
        row ("block_size", number (r.blockSize));
        row ("latency_samples", number (r.latencySamples));
        row ("latency_ms", number (r.latencyMs()));
        forEachCounter (r.counters, [&row] (const char* name, const auto& v) { row (name, number (v)); });
        for (int h = 0; h < StatsReport::numHistograms; ++h)
        {
            const auto& snap = r.histograms[static_cast<size_t> (h)];
            const std::string prefix = std::string (histogramNames[h]) + "_";
            row (prefix + "count", number (snap.count));
            row (prefix + "sum_s", number (snap.sumSeconds));
            row (prefix + "max_s", number (snap.maxSeconds));
            for (const auto& [name, q] : percentiles)
                row (prefix + name, number (snap.percentile (q)));
        }

        s += "\nbin,lower_s,upper_s";
        for (const auto* name : histogramNames)
            append (s, ",", name);
        s += "\n";
        for (int b = 0; b < DurationHistogram::numBins; ++b)
        {
            const bool last = b == DurationHistogram::numBins - 1;
            append (s, number (b), ",", number (DurationHistogram::binLowerEdge (b)), ",",
                    last ? std::string ("inf") : number (DurationHistogram::binUpperEdge (b)));
            for (const auto& snap : r.histograms)
                append (s, ",", number (snap.bins[static_cast<size_t> (b)]));
            s += "\n";
        }
        return s;
    }

    std::string statisticsToJson (const StatsReport& r)
    {
        std::string s = "{\n";
        append (s, "  \"format\": \"", formatName, "\",\n");
        append (s, "  \"version\": ", number (StatsReport::formatVersion), ",\n");
        append (s, "  \"sample_rate_hz\": ", number (r.sampleRate), ",\n");
        append (s, "  \"block_size\": ", number (r.blockSize), ",\n");
        append (s, "  \"latency_samples\": ", number (r.latencySamples), ",\n");
        append (s, "  \"latency_ms\": ", number (r.latencyMs()), ",\n");
        s += "  \"counters\": {";
        const char* sep = "\n";
        forEachCounter (r.counters, [&] (const char* name, const auto& v) {
            append (s, sep, "    \"", name, "\": ", number (v));
            sep = ",\n";
        });
        s += "\n  },\n  \"bin_lower_edges_s\": [";
        for (int b = 0; b < DurationHistogram::numBins; ++b)
            append (s, b > 0 ? ", " : "", number (DurationHistogram::binLowerEdge (b)));
        s += "],\n  \"histograms\": {";
        for (int h = 0; h < StatsReport::numHistograms; ++h)
        {
            const auto& snap = r.histograms[static_cast<size_t> (h)];
            append (s, h > 0 ? "," : "", "\n    \"", histogramNames[h], "\": {");
            append (s, "\"count\": ", number (snap.count), ", \"sum_s\": ", number (snap.sumSeconds), ", \"max_s\": ",
                    number (snap.maxSeconds));
            for (const auto& [name, q] : percentiles)
                append (s, ", \"", name, "\": ", number (snap.percentile (q)));
            s += ",\n      \"bins\": [";
            for (size_t b = 0; b < snap.bins.size(); ++b)
                append (s, b > 0 ? ", " : "", number (snap.bins[b]));
            s += "]}";
        }
        s += "\n  }\n}\n";
        return s;
    }

    bool statisticsFromJson (std::string_view text, StatsReport& out)
    {
        JsonValue root;
        if (! JsonReader (text).parseDocument (root) || root.type != JsonValue::Type::object)
            return false;
        const auto* format = root.find ("format");
        int version = 0;
        if (format == nullptr || format->text != formatName || ! readJson (root.find ("version"), version) || version > StatsReport::formatVersion)
            return false;

        bool ok = readJson (root.find ("sample_rate_hz"), out.sampleRate) && readJson (root.find ("block_size"), out.blockSize) && readJson (root.find ("latency_samples"), out.latencySamples);
        const auto* counters = root.find ("counters");
        ok = ok && counters != nullptr;
        if (ok)
            forEachCounter (out.counters, [&] (const char* name, auto& v) { ok = ok && readJson (counters->find (name), v); });

        const auto* histograms = root.find ("histograms");
        for (int h = 0; ok && h < StatsReport::numHistograms; ++h)
        {
            const auto* hv = histograms != nullptr ? histograms->find (histogramNames[h]) : nullptr;
            const auto* bins = hv != nullptr ? hv->find ("bins") : nullptr;
            auto& snap = out.histograms[static_cast<size_t> (h)];
            ok = bins != nullptr && bins->items.size() == snap.bins.size() && readJson (hv->find ("count"), snap.count) && readJson (hv->find ("sum_s"), snap.sumSeconds) && readJson (hv->find ("max_s"), snap.maxSeconds);
            for (size_t b = 0; ok && b < snap.bins.size(); ++b)
                ok = readJson (&bins->items[b], snap.bins[b]);
        }
        return ok;
    }

    bool statisticsFromCsv (std::string_view text, StatsReport& out)
    {
        const size_t blank = text.find ("\n\n");
        if (blank == std::string_view::npos)
            return false;

        // The key,value table.
        std::vector<std::pair<std::string_view, std::string_view>> values;
        for (const auto line : split (text.substr (0, blank), '\n'))
        {
            const auto fields = split (line, ',');
            if (fields.size() != 2)
                return false;
            values.emplace_back (fields[0], fields[1]);
        }
        const auto value = [&values] (std::string_view key) -> const std::string_view* {
            for (const auto& kv : values)
                if (kv.first == key)
                    return &kv.second;
            return nullptr;
        };
        const auto read = [&value] (std::string_view key, auto& v) {
            const auto* field = value (key);
            return field != nullptr && parseNumber (*field, v);
        };
        const auto* format = value ("format");
        int version = 0;
        if (values.empty() || values[0].first != "key" || format == nullptr || *format != formatName || ! read ("version", version) || version > StatsReport::formatVersion)
            return false;
        bool ok = read ("sample_rate_hz", out.sampleRate) && read ("block_size", out.blockSize) && read ("latency_samples", out.latencySamples);
        forEachCounter (out.counters, [&] (const char* name, auto& v) { ok = ok && read (name, v); });
        for (int h = 0; ok && h < StatsReport::numHistograms; ++h)
        {
            auto& snap = out.histograms[static_cast<size_t> (h)];
            const std::string prefix = std::string (histogramNames[h]) + "_";
            ok = read (prefix + "count", snap.count) && read (prefix + "sum_s", snap.sumSeconds) && read (prefix + "max_s", snap.maxSeconds);
        }

        // The bins table: a header, then one row per bin.
        auto rows = split (text.substr (blank + 2), '\n');
        while (! rows.empty() && rows.back().empty())
            rows.pop_back();
        if (! ok || rows.size() != static_cast<size_t> (DurationHistogram::numBins) + 1)
            return false;
        for (int b = 0; b < DurationHistogram::numBins; ++b)
        {
            const auto fields = split (rows[static_cast<size_t> (b) + 1], ',');
            int index = -1;
            if (fields.size() != 3 + StatsReport::numHistograms || ! parseNumber (fields[0], index) || index != b)
                return false;
            for (size_t h = 0; h < StatsReport::numHistograms; ++h)
                if (! parseNumber (fields[3 + h], out.histograms[h].bins[static_cast<size_t> (b)]))
                    return false;
        }
        return true;
    }
} // namespace pg
