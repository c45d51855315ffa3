#include "gui_program.hpp"

#include "lab.hpp"

#include <cstdlib>

namespace sockscope {

GuiProgram::GuiProgram(Lab& lab, std::vector<std::string> argv, std::vector<std::uint16_t> watch,
                       std::function<void()> wake)
    : LabRef(lab), Argv(std::move(argv)), Watch(std::move(watch)), Wake(std::move(wake))
{
    Shown.Watch = Argv.empty();
    for (auto port : Watch)
        Shown.Ports += (Shown.Ports.empty() ? "" : ", ") + std::to_string(port);
    for (const auto& a : Argv)
        Shown.Command += (Shown.Command.empty() ? "" : " ") + a;
}

GuiProgram::~GuiProgram() { Stop(); }

bool GuiProgram::Start()
{
    if (Argv.empty()) { // --watch: the probe alone, every TCP and UDP socket on the ports
        LabRef.WatchUdp();
        for (auto port : Watch)
            LabRef.WatchPort(port);
        return true;
    }
    Stop();
    Shown.Error.clear();
    Shown.Offer.clear();
    Shown.Pid = 0;
    Refresh = true;
    Io = std::make_unique<ProgramIo>(64 * 1024, Wake);
    std::string error;
    if (!Io->Open(error)) {
        Shown.Error = error;
        Io.reset();
        return false;
    }
    TracerOptions options;
    options.Argv = Argv;
    options.Stdin = Io->ChildStdin();
    options.Output = Io->ChildOutput();
    Traced = MakeLabTracer(LabRef, options);
    bool started = Traced->Start(error);
    Io->Started(); // the child's ends closed here, whether it started or not
    if (!started) {
        Shown.Error = error;
        if (error.find("not permitted") != std::string::npos)
            Shown.Offer = WatchOffer(Argv);
        Traced.reset();
        return false;
    }
    Shown.Pid = Traced->RootPid();
    return true;
}

void GuiProgram::Stop()
{
    if (Traced)
        Traced->Stop(); // every traced process killed and reaped, the thread joined
    Traced.reset();
    Io.reset(); // its thread joined, its descriptors closed
}

void GuiProgram::Write(const std::string& text)
{
    if (Io)
        Io->Write(text);
}

void GuiProgram::CloseStdin()
{
    if (Io)
        Io->CloseStdin();
}

bool GuiProgram::Ended() const { return !Argv.empty() && (!Traced || Traced->Done()); }

int GuiProgram::Pid() const { return Traced ? Traced->RootPid() : 0; }

const ProgramView& GuiProgram::View()
{
    if (Shown.Watch)
        return Shown;
    Shown.Running = Traced && !Traced->Done();
    Shown.Ended = Traced && Traced->Done();
    if (Shown.Ended) {
        Shown.ExitSignal = Traced->ExitSignal();
        Shown.ExitStatus = Traced->ExitStatus();
        Shown.SignalName = Shown.ExitSignal ? SignalName(Shown.ExitSignal) : "";
    }
    if (Io) {
        if (Io->Version() != Shown.OutputVersion || Refresh) {
            Shown.Output = Io->Output();
            Shown.OutputTotal = Io->Total();
            Shown.OutputVersion = Io->Version();
            Refresh = false;
        }
        Shown.StdinOpen = Io->StdinOpen() && Shown.Running;
    } else {
        Shown.StdinOpen = false;
    }
    return Shown;
}

std::string WatchOffer(const std::vector<std::string>& argv)
{
    std::string ports;
    for (std::size_t i = 1; i < argv.size(); ++i) {
        char* end = nullptr;
        long n = std::strtol(argv[i].c_str(), &end, 10);
        if (!argv[i].empty() && *end == 0 && n >= 1 && n <= 65535)
            ports += (ports.empty() ? "" : ",") + argv[i];
    }
    return "sockscope --watch " + (ports.empty() ? std::string("PORT") : ports);
}

} // namespace sockscope
