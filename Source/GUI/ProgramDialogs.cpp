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

        // Starts a command line the user gave (and allows it), and says which files run.
        void startAndTell (PauseGuardProcessor& processor, const juce::String& command, const std::function<void (const juce::String&)>& status)
        {
            const auto resolved = resolveProgram (command);
            if (! resolved.ok())
            {
                status ("Not started: " + resolved.error);
                return;
            }
            processor.runProgramAsShown (resolved.command, true); // (exactly the files the status names)
            status ("Starting (allowed from now on): " + resolved.describeFiles().replace ("\n", "; "));
        }

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
                                      startAndTell (processor, path.containsChar (' ') ? path.quoted() : path, status);
                                  });
        }
    } // namespace

    // The program that plays, if any: never one a session names that was not allowed.
    juce::String programDialogCommand (const PauseGuardProcessor& processor) { return processor.getDspProgram(); }

    std::vector<QuestionButton> sessionQuestionButtons (const ResolvedProgram& resolved)
    {
        std::vector<QuestionButton> buttons { { "Keep the script", cancel, true } };
        if (resolved.ok())
        {
            buttons.push_back ({ "Run once", runOnce, false });
            buttons.push_back ({ "Always allow", always, false });
        }
        return buttons;
    }

    static std::unique_ptr<juce::AlertWindow> makeProgramDialog (const PauseGuardProcessor& processor)
    {
        juce::StringArray allowed;
        for (const auto& program : AllowedPrograms().list())
            allowed.add (joinCommandLine (program.argv));
        const auto current = programDialogCommand (processor);

        auto w = std::make_unique<juce::AlertWindow> ("Run a DSP program",
                                                      "The program runs in a process of its own, in place of the script, and speaks "
                                                      "PauseGuard's protocol (Go: the pauseguard package). Give its command line (the "
                                                      "program's absolute path first), or pick one you allowed before. Choosing it here "
                                                      "allows its files, as they are now, for your sessions.",
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
            box->onChange = [window = w.get(), box] { window->getTextEditor ("command")->setText (box->getText()); };
        return w;
    }

    void showProgramDialog (juce::Component& owner, PauseGuardProcessor& processor, std::function<void (const juce::String&)> status)
    {
        juce::Component::SafePointer<juce::Component> safe (&owner);
        auto* w = makeProgramDialog (processor).release(); // deleted when dismissed
        w->enterModalState (true, juce::ModalCallbackFunction::create ([w, safe, &processor, status] (int answer) {
                                if (safe == nullptr)
                                    return;
                                const auto command = w->getTextEditorContents ("command").trim();
                                if (answer == run && command.isNotEmpty())
                                    startAndTell (processor, command, status);
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

    juce::String sessionQuestionText (const ResolvedProgram& resolved)
    {
        return resolved.ok() ? "It names a program that is not on your list of allowed programs, or whose files changed "
                               "since you allowed it:\n\n" +
                                   resolved.describeFiles() + "\n\nA program runs with your rights. Start it?"
                             : "It names a program that cannot run here: " + resolved.error;
    }

    static std::unique_ptr<juce::AlertWindow> makeSessionQuestion (const ResolvedProgram& resolved)
    {
        auto w = std::make_unique<juce::AlertWindow> ("This session runs a DSP program", sessionQuestionText (resolved),
                                                      juce::MessageBoxIconType::WarningIcon);
        for (const auto& b : sessionQuestionButtons (resolved))
            if (b.onReturnAndEscape)
                w->addButton (b.text, b.answer, juce::KeyPress (juce::KeyPress::returnKey), juce::KeyPress (juce::KeyPress::escapeKey));
            else
                w->addButton (b.text, b.answer);
        return w;
    }

    void showSessionProgramQuestion (juce::Component& owner, PauseGuardProcessor& processor, std::function<void (const juce::String&)> status)
    {
        juce::Component::SafePointer<juce::Component> safe (&owner);
        const auto named = processor.getPendingDspProgram();
        if (named.isEmpty())
            return;
        // What would run, as the files are now: the buttons start exactly that.
        const auto resolved = resolveProgram (named);
        auto* w = makeSessionQuestion (resolved).release(); // deleted when dismissed
        w->enterModalState (true, juce::ModalCallbackFunction::create ([safe, &processor, named, resolved, status] (int answer) {
                                if (safe == nullptr || processor.getPendingDspProgram() != named)
                                    return; // the session changed meanwhile
                                if (answer == runOnce || answer == always)
                                {
                                    processor.runProgramAsShown (resolved.command, answer == always);
                                    status ("Starting " + resolved.commandLine());
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
