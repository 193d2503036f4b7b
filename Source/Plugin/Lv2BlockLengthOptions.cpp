#include "Lv2BlockLengthOptions.h"

#include <lv2/atom/atom.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/urid/urid.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

namespace pg
{
    namespace
    {
        const void* findFeature (const LV2_Feature* const* features, const char* uri)
        {
            for (auto* const* f = features; f != nullptr && *f != nullptr; ++f)
                if (std::strcmp ((*f)->URI, uri) == 0)
                    return (*f)->data;
            return nullptr;
        }

        template <typename T>
        int64_t readAs (const void* value)
        {
            T v;
            std::memcpy (&v, value, sizeof v);
            return v;
        }

        // A signed integer of 1, 2, 4 or 8 bytes (the host's own byte order), else nothing.
        std::optional<int64_t> readInteger (const void* value, uint32_t size)
        {
            switch (size)
            {
                case 1:
                    return readAs<int8_t> (value);
                case 2:
                    return readAs<int16_t> (value);
                case 4:
                    return readAs<int32_t> (value);
                case 8:
                    return readAs<int64_t> (value);
                default:
                    return std::nullopt;
            }
        }
    } // namespace

    Lv2BlockLengthOptions::Lv2BlockLengthOptions (const LV2_Feature* const* hostFeatures)
        : original (hostFeatures)
    {
        const auto* map = static_cast<const LV2_URID_Map*> (findFeature (hostFeatures, LV2_URID__map));
        const auto* hostOptions = static_cast<const LV2_Options_Option*> (findFeature (hostFeatures, LV2_OPTIONS__options));
        if (map == nullptr || hostOptions == nullptr)
            return;

        const auto urid = [map] (const char* uri) { return map->map (map->handle, uri); };
        const LV2_URID atomInt = urid (LV2_ATOM__Int), atomLong = urid (LV2_ATOM__Long);
        const LV2_URID blockLengths[] = { urid (LV2_BUF_SIZE__minBlockLength), urid (LV2_BUF_SIZE__maxBlockLength),
                                          urid (LV2_BUF_SIZE__nominalBlockLength) };

        size_t count = 0;
        while (hostOptions[count].key != 0 || hostOptions[count].value != nullptr)
            ++count;
        optionList.assign (hostOptions, hostOptions + count + 1); // with the host's terminator
        values.assign (count, 0);

        bool changed = false;
        for (size_t i = 0; i < count; ++i)
        {
            auto& option = optionList[i];
            const bool isBlockLength = std::find (std::begin (blockLengths), std::end (blockLengths), option.key) != std::end (blockLengths);
            if (! isBlockLength || (option.type != atomInt && option.type != atomLong) || option.value == nullptr)
                continue;
            if (option.type == atomInt && option.size == sizeof (int32_t))
                continue; // as JUCE reads it already
            const auto value = readInteger (option.value, option.size);
            if (! value)
                continue;
            values[i] = static_cast<int32_t> (std::clamp<int64_t> (*value, 0, std::numeric_limits<int32_t>::max()));
            option.type = atomInt;
            option.size = sizeof (int32_t);
            option.value = &values[i];
            changed = true;
        }
        if (! changed)
        {
            optionList.clear();
            return;
        }

        optionsFeature = { LV2_OPTIONS__options, optionList.data() };
        for (auto* const* f = hostFeatures; *f != nullptr; ++f)
            featureList.push_back (std::strcmp ((*f)->URI, LV2_OPTIONS__options) == 0 ? &optionsFeature : *f);
        featureList.push_back (nullptr);
    }

    const LV2_Options_Option* Lv2BlockLengthOptions::options() const noexcept
    {
        return optionList.empty() ? static_cast<const LV2_Options_Option*> (findFeature (original, LV2_OPTIONS__options))
                                  : optionList.data();
    }
} // namespace pg
