#pragma once

// The LV2 host's instantiation features, with its block-length options as JUCE 7.0.5 reads them.
// JUCE's LV2 client reads an option only when its size matches its type, so a 4-byte atom:Int or
// an 8-byte atom:Long; Audacity 3.2 passes lv2:min/max/nominalBlockLength typed atom:Int but 8
// bytes long, and JUCE's instantiate then finds no maximum block length and fails.

#include <lv2/core/lv2.h>
#include <lv2/options/options.h>

#include <cstdint>
#include <vector>

namespace pg
{
    // Message thread (a host's instantiate). A copy of the host's feature list in which every
    // block-length option typed atom:Int or atom:Long, of any integer size (1, 2, 4 or 8 bytes), is
    // a 4-byte atom:Int (clamped to its range); every other feature and option is the host's own.
    // Without a URID map or an options feature, the host's list is used as it is.
    class Lv2BlockLengthOptions
    {
    public:
        explicit Lv2BlockLengthOptions (const LV2_Feature* const* hostFeatures);

        const LV2_Feature* const* features() const noexcept { return featureList.empty() ? original : featureList.data(); }
        // The options handed on (the host's own when nothing was normalised); for tests.
        const LV2_Options_Option* options() const noexcept;

        Lv2BlockLengthOptions (const Lv2BlockLengthOptions&) = delete;
        Lv2BlockLengthOptions& operator= (const Lv2BlockLengthOptions&) = delete;

    private:
        const LV2_Feature* const* original;
        std::vector<LV2_Options_Option> optionList;
        std::vector<int32_t> values; // sized once: optionList points into it
        LV2_Feature optionsFeature {};
        std::vector<const LV2_Feature*> featureList;
    };
} // namespace pg
