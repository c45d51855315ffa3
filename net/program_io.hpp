// A traced program's standard input and output in the GUI (`sockscope --run` without
// --headless): two pipes, and a small thread that reads the program's stdout and stderr
// into a bounded buffer (the last Keep bytes; a program writing 1 GB does not grow it)
// and writes the lines typed for it to its stdin, so that nothing blocks the GUI thread.
//
//   ProgramIo io(64 * 1024, wake);
//   io.Open(error);                      // the pipes
//   options.Stdin = io.ChildStdin();     // TracerOptions: dup2'd in the child
//   options.Output = io.ChildOutput();
//   tracer.Start(error);
//   io.Started();                        // closes the child's ends here, starts the thread
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace sockscope {

class ProgramIo {
public:
    // `wake` is called on the IO thread after new output arrives (e.g. to wake the GUI loop).
    explicit ProgramIo(std::size_t keep = 64 * 1024, std::function<void()> wake = {});
    ~ProgramIo(); // stops the thread, closes every descriptor
    ProgramIo(const ProgramIo&) = delete;
    ProgramIo& operator=(const ProgramIo&) = delete;

    // Makes the pipes (close-on-exec; the child's ends are dup2'd onto 0, 1 and 2).
    // False and one line in `error` when it cannot.
    bool Open(std::string& error);
    int ChildStdin() const { return ChildIn; }
    int ChildOutput() const { return ChildOut; }
    // The program runs (or could not start): closes the child's ends in this process, so
    // that the output ends when the program's last process does, and starts the thread.
    void Started();

    // Any thread. `text` is written to the program's stdin (by the IO thread, as the
    // program reads); nothing after CloseStdin().
    void Write(std::string text);
    // Any thread. The program's stdin ends (read() returns 0) once what was written is read.
    void CloseStdin();

    // Any thread. The last Keep bytes the program wrote (stdout and stderr, interleaved as
    // written); Total counts every byte, so Total() - Output().size() were dropped.
    std::string Output() const;
    std::uint64_t Total() const { return TotalBytes.load(); }
    std::uint64_t Version() const { return Changes.load(); } // grows with output and stdin's end
    bool StdinOpen() const;
    bool OutputEnded() const { return Ended.load(); } // every writer has closed it

private:
    void Run();
    void Append(const char* data, std::size_t n);

    std::size_t Keep;
    std::function<void()> Wake;
    int ChildIn = -1, ChildOut = -1;   // the program's ends, until Started()
    int StdinFd = -1, OutputFd = -1;   // ours
    int StopFd = -1;                   // eventfd: wakes the thread
    mutable std::mutex Mutex;          // guards Buffer, Pending, CloseAsked, StdinFd's state
    std::string Buffer;
    std::string Pending;               // typed, not yet written
    bool CloseAsked = false;
    bool StdinIsOpen = true;
    std::atomic<std::uint64_t> TotalBytes{0};
    std::atomic<std::uint64_t> Changes{0};
    std::atomic<bool> Ended{false};
    std::atomic<bool> Stopping{false};
    std::thread Worker;
};

} // namespace sockscope
