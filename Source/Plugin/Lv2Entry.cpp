// The LV2 entry point the host finds: JUCE's own descriptor (its lv2_descriptor is renamed
// pauseguard_juce_lv2_descriptor when its LV2 client is compiled, see CMakeLists.txt), with an
// instantiate that first gives JUCE block-length options of the size it reads
// (Lv2BlockLengthOptions.h). Compiled into the LV2 plug-in only.

#include "Lv2BlockLengthOptions.h"

extern "C" const LV2_Descriptor* pauseguard_juce_lv2_descriptor (uint32_t index);

namespace
{
    const LV2_Descriptor* juceDescriptor()
    {
        static const LV2_Descriptor* const descriptor = pauseguard_juce_lv2_descriptor (0);
        return descriptor;
    }

    LV2_Handle instantiateWithReadableOptions (const LV2_Descriptor*, double sampleRate, const char* bundlePath,
                                               const LV2_Feature* const* features)
    {
        const pg::Lv2BlockLengthOptions readable (features);
        return juceDescriptor()->instantiate (juceDescriptor(), sampleRate, bundlePath, readable.features());
    }
} // namespace

extern "C" LV2_SYMBOL_EXPORT const LV2_Descriptor* lv2_descriptor (uint32_t index)
{
    if (index != 0 || juceDescriptor() == nullptr)
        return nullptr;
    static const LV2_Descriptor descriptor = [] {
        auto copy = *juceDescriptor();
        copy.instantiate = instantiateWithReadableOptions;
        return copy;
    }();
    return &descriptor;
}
