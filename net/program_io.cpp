#include "program_io.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace sockscope {

namespace {

void CloseFd(int& fd)
{
    if (fd >= 0)
        close(fd);
    fd = -1;
}

} // namespace

ProgramIo::ProgramIo(std::size_t keep, std::function<void()> wake) : Keep(keep), Wake(std::move(wake)) {}

ProgramIo::~ProgramIo()
{
    Stopping = true;
    if (StopFd >= 0) {
        std::uint64_t one = 1;
        ssize_t ignored = write(StopFd, &one, sizeof one);
        (void)ignored;
    }
    if (Worker.joinable())
        Worker.join();
    CloseFd(ChildIn);
    CloseFd(ChildOut);
    CloseFd(StdinFd);
    CloseFd(OutputFd);
    CloseFd(StopFd);
}

bool ProgramIo::Open(std::string& error)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0) {
        error = std::string("pipe: ") + std::strerror(errno);
        return false;
    }
    if (pipe2(out, O_CLOEXEC) != 0) {
        error = std::string("pipe: ") + std::strerror(errno);
        close(in[0]);
        close(in[1]);
        return false;
    }
    StopFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (StopFd < 0) {
        error = std::string("eventfd: ") + std::strerror(errno);
        for (int fd : {in[0], in[1], out[0], out[1]})
            close(fd);
        return false;
    }
    ChildIn = in[0];
    StdinFd = in[1];
    OutputFd = out[0];
    ChildOut = out[1];
    // Ours never block the IO thread: a program that does not read its stdin keeps what
    // was typed pending, not the thread.
    fcntl(StdinFd, F_SETFL, O_NONBLOCK);
    fcntl(OutputFd, F_SETFL, O_NONBLOCK);
    return true;
}

void ProgramIo::Started()
{
    CloseFd(ChildIn);
    CloseFd(ChildOut);
    if (OutputFd >= 0 && !Worker.joinable())
        Worker = std::thread([this] { Run(); });
}

void ProgramIo::Write(std::string text)
{
    {
        std::lock_guard lock(Mutex);
        if (CloseAsked || !StdinIsOpen)
            return;
        Pending += text;
    }
    std::uint64_t one = 1;
    ssize_t ignored = write(StopFd, &one, sizeof one);
    (void)ignored;
}

void ProgramIo::CloseStdin()
{
    {
        std::lock_guard lock(Mutex);
        CloseAsked = true;
    }
    std::uint64_t one = 1;
    ssize_t ignored = write(StopFd, &one, sizeof one);
    (void)ignored;
}

bool ProgramIo::StdinOpen() const
{
    std::lock_guard lock(Mutex);
    return StdinIsOpen && !CloseAsked;
}

std::string ProgramIo::Output() const
{
    std::lock_guard lock(Mutex);
    if (Buffer.size() <= Keep)
        return Buffer;
    return Buffer.substr(Buffer.size() - Keep);
}

void ProgramIo::Append(const char* data, std::size_t n)
{
    std::lock_guard lock(Mutex);
    Buffer.append(data, n);
    // Trimmed by half a Keep at a time, so that a flood moves each byte a few times only.
    if (Buffer.size() > Keep + Keep / 2)
        Buffer.erase(0, Buffer.size() - Keep);
    TotalBytes += n;
    Changes++;
}

void ProgramIo::Run()
{
    // A write to a pipe whose reader is gone raises SIGPIPE on this thread: blocked here,
    // the write fails with EPIPE instead (and the pending signal is taken below).
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
    char buf[16384];
    while (!Stopping) {
        pollfd fds[3] = {{StopFd, POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLOUT, 0}};
        if (!Ended)
            fds[1].fd = OutputFd;
        {
            std::lock_guard lock(Mutex);
            if (StdinFd >= 0 && !Pending.empty())
                fds[2].fd = StdinFd;
            else if (StdinFd >= 0 && CloseAsked) {
                close(StdinFd);
                StdinFd = -1;
                StdinIsOpen = false;
                Changes++;
            }
        }
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[0].revents) {
            std::uint64_t count;
            ssize_t ignored = read(StopFd, &count, sizeof count);
            (void)ignored;
        }
        if (fds[1].fd >= 0 && fds[1].revents) {
            ssize_t n = read(OutputFd, buf, sizeof buf);
            if (n > 0)
                Append(buf, static_cast<std::size_t>(n));
            else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                Ended = true;
                Changes++;
            }
            if (Wake)
                Wake();
        }
        if (fds[2].fd >= 0 && fds[2].revents) {
            std::lock_guard lock(Mutex);
            ssize_t n = write(StdinFd, Pending.data(), Pending.size());
            if (n > 0) {
                Pending.erase(0, static_cast<std::size_t>(n));
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                // The program closed its stdin or ended: what was typed is dropped.
                Pending.clear();
                close(StdinFd);
                StdinFd = -1;
                StdinIsOpen = false;
                Changes++;
                timespec zero{};
                sigtimedwait(&pipe_set, nullptr, &zero);
            }
        }
    }
}

} // namespace sockscope
