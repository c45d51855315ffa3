// `--run -- PROGRAM ARGS` and `--watch PORTS` in the GUI: the program traced into the
// GUI's lab (MakeLabTracer: its calls and lanes reach the World as a lesson's do), its
// stdin and output through ProgramIo, and the ProgramView the panel draws. Main thread
// only, except where said.
#pragma once

#include "program_io.hpp"
#include "tracer.hpp"
#include "ui.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sockscope {

class Lab;

class GuiProgram {
public:
    // `wake` may be called on any thread: new output arrived.
    GuiProgram(Lab& lab, std::vector<std::string> argv, std::vector<std::uint16_t> watch, std::function<void()> wake);
    ~GuiProgram(); // Stop()
    GuiProgram(const GuiProgram&) = delete;
    GuiProgram& operator=(const GuiProgram&) = delete;

    // Starts tracing the program (or watching the ports). A failure is kept for the panel
    // (ProgramView::Error) and returned as false.
    bool Start();
    // The program killed and reaped, the output thread joined, the pipes closed. Idempotent.
    void Stop();
    void Write(const std::string& text);
    void CloseStdin();
    // The program's first process has ended (or it never started); --watch: never.
    bool Ended() const;
    int Pid() const;
    const Tracer* TracerOf() const { return Traced.get(); }
    // Refreshed from the tracer and the output buffer.
    const ProgramView& View();

private:
    Lab& LabRef;
    std::vector<std::string> Argv;
    std::vector<std::uint16_t> Watch;
    std::function<void()> Wake;
    std::unique_ptr<ProgramIo> Io;    // before Traced: destroyed after it
    std::unique_ptr<Tracer> Traced;
    ProgramView Shown;
    bool Refresh = true; // a new program: its output replaces the last one's
};

// "sockscope --watch 8080,9090": the numbers among a program's arguments that may be the
// ports it binds ("sockscope --watch PORT" when none is).
std::string WatchOffer(const std::vector<std::string>& argv);

} // namespace sockscope
