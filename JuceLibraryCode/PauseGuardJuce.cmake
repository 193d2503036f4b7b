# How PauseGuard gets and configures JUCE: Debian's juce-modules-source (7.0.5).
# Included (not add_subdirectory) from the top level: find_package(JUCE) makes IMPORTED targets
# such as juce::juceaide, which are visible only in the directory that found them and below.
find_package(JUCE 7.0.5 CONFIG REQUIRED)

# One INTERFACE target that carries every JUCE_* define, linked by the plugin's shared code.
add_library(pauseguard_juce_config INTERFACE)
target_compile_definitions(pauseguard_juce_config INTERFACE
    JUCE_WEB_BROWSER=0
    JUCE_USE_CURL=0
    JUCE_DISPLAY_SPLASH_SCREEN=0
    JUCE_REPORT_APP_USAGE=0
    # Debian does not bundle FLAC / Ogg Vorbis and does not link them: turn them off.
    JUCE_USE_FLAC=0
    JUCE_USE_OGGVORBIS=0
    JUCE_USE_MP3AUDIOFORMAT=0
    JUCE_VST3_CAN_REPLACE_VST2=0
    JUCE_STRICT_REFCOUNTEDPOINTER=1
    JUCE_MODAL_LOOPS_PERMITTED=0)
# Debian patches JUCE to ignore LV2URI: Source/Plugin adds JucePlugin_LV2URI to this target.

if(UNIX AND NOT APPLE)
    # JACK gives the Standalone app a real backend on Linux (and a dummy server in tests).
    target_compile_definitions(pauseguard_juce_config INTERFACE JUCE_JACK=1 JUCE_ALSA=1)
endif()
