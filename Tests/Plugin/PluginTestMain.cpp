#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <juce_events/juce_events.h>

int main (int argc, char* argv[])
{
    // The processor owns a juce::Timer and the editor is a Component: both want a MessageManager.
    juce::ScopedJuceInitialiser_GUI juce;
    return Catch::Session().run (argc, argv);
}
