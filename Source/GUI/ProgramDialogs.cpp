#include "ProgramDialogs.h"

#include <memory>

namespace pauseguard
{
    namespace
    {
        enum Answer
        {
            cancel = 0,
            run,
            browse,
            script,
            runOnce,
            always
        };

        void launchBrowser (juce::Component::SafePointer<juce::Component> owner, PauseGuardProcessor& processor, std::function<void (const juce::String&)> status)
        {
            auto chooser = std::make_shared<juce::FileChooser> ("Choose a DSP program",
                                                                juce::File::getSpecialLocation (juce::File::userHomeDirectory));
            chooser->launchAsync (juce::FileBrowserComponent::openMode | juce::FileBrowserComponent::canSelectFiles,
                                  [owner, &processor, status, chooser] (const juce::FileChooser& fc) {
                                      const auto file = fc.getResult();
                                      if (owner == nullptr || file == juce::File())
                                          return;
                                      const auto path = file.getFullPathName();
                                      processor.setDspProgram (path.containsChar (' ') ? path.quoted() : path);
                                      status ("Starting " + file.getFileName() + " (allowed from now on)");
                                  });
        }
    } // namespace

    void showProgramDialog (juce::Component& owner, PauseGuardProcessor& processor, std::function<void (const juce::String&)> status)
    {
        juce::Component::SafePointer<juce::Component> safe (&owner);
        const auto allowed = AllowedPrograms().list();
        auto current = processor.getDspProgram();
        if (current.isEmpty())
            current = processor.getPendingDspProgram();
        if (current.isEmpty() && ! allowed.isEmpty())
            current = allowed[allowed.size() - 1];

        auto* w = new juce::AlertWindow ("Run a DSP program",
                                         "The program runs in a process of its own, in place of the script, and speaks "
                                         "PauseGuard's protocol (Go: the pauseguard package). Give its command line, or pick "
                                         "one you allowed before. Choosing it here allows it for your sessions.",
                                         juce::MessageBoxIconType::NoIcon);
        w->addTextEditor ("command", current, "Command line");
        if (! allowed.isEmpty())
            w->addComboBox ("allowed", allowed, "Allowed programs");
        w->addButton ("Run", run, juce::KeyPress (juce::KeyPress::returnKey));
        w->addButton (juce::String::fromUTF8 ("Browse\xe2\x80\xa6"), browse);
        if (processor.getDspProgram().isNotEmpty())
            w->addButton ("Back to the script", script);
        w->addButton ("Cancel", cancel, juce::KeyPress (juce::KeyPress::escapeKey));
        if (auto* box = w->getComboBoxComponent ("allowed"))
            box->onChange = [w, box] { w->getTextEditor ("command")->setText (box->getText()); };

        w->enterModalState (true, juce::ModalCallbackFunction::create ([w, safe, &processor, status] (int answer) {
                                if (safe == nullptr)
                                    return;
                                const auto command = w->getTextEditorContents ("command").trim();
                                if (answer == run && command.isNotEmpty())
                                {
                                    processor.setDspProgram (command);
                                    status ("Starting " + command);
                                }
                                else if (answer == browse)
                                    launchBrowser (safe, processor, status);
                                else if (answer == script)
                                {
                                    processor.setDspProgram ({});
                                    status ("Back to the script");
                                }
                            }),
                            true);
    }

    void showSessionProgramQuestion (juce::Component& owner, PauseGuardProcessor& processor, std::function<void (const juce::String&)> status)
    {
        juce::Component::SafePointer<juce::Component> safe (&owner);
        const auto named = processor.getPendingDspProgram();
        if (named.isEmpty())
            return;
        auto* w = new juce::AlertWindow ("This session runs a DSP program",
                                         "It names this program, which is not on your list of allowed programs:\n\n" + named
                                             + "\n\nA program runs with your rights. Start it?",
                                         juce::MessageBoxIconType::NoIcon);
        w->addButton ("Run once", runOnce);
        w->addButton ("Always allow", always);
        w->addButton ("Keep the script", cancel, juce::KeyPress (juce::KeyPress::escapeKey));
        w->enterModalState (true, juce::ModalCallbackFunction::create ([safe, &processor, named, status] (int answer) {
                                if (safe == nullptr || processor.getPendingDspProgram() != named)
                                    return; // the session changed meanwhile
                                if (answer == runOnce || answer == always)
                                {
                                    processor.setDspProgram (named, answer == always);
                                    status ("Starting " + named);
                                }
                                else
                                {
                                    processor.dismissPendingDspProgram();
                                    status ("The script plays; the session still names the program");
                                }
                            }),
                            true);
    }
} // namespace pauseguard
