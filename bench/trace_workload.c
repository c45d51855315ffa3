/* The programs bench_trace times (issue 14 §6):
 *   trace_workload getpid N   calls getpid() N times: a call the tracer's filter lets
 *                             through without a stop;
 *   trace_workload echo N     makes N connections to its own listener on 127.0.0.1; each is
 *                             accepted, sends "ping", gets it echoed back and is closed by
 *                             both ends (socket, setsockopt, connect, accept, write, read,
 *                             write, read, close, close: ten stopped calls an iteration);
 *   trace_workload read N     reads the first 64 bytes of its own program file N times (pread would not
 *                             stop; read does, whatever the descriptor, since the filter
 *                             cannot tell a socket from a file). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int Echo(long n)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 128) != 0)
        return 1;
    getsockname(l, (struct sockaddr *)&a, &len);
    for (long i = 0; i < n; i++) {
        char buf[8];
        int c = socket(AF_INET, SOCK_STREAM, 0);
        /* SO_LINGER {1, 0}: close() resets, so no TIME-WAIT piles up over the run */
        struct linger lg = {1, 0};
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        if (connect(c, (struct sockaddr *)&a, sizeof a) != 0)
            return 1;
        int s = accept(l, NULL, NULL);
        if (s < 0 || write(c, "ping", 4) != 4 || read(s, buf, sizeof buf) != 4 || write(s, buf, 4) != 4 ||
            read(c, buf, sizeof buf) != 4)
            return 1;
        close(c);
        close(s);
    }
    return 0;
}

static int ReadFile(long n, const char *path)
{
    char buf[64];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 1;
    for (long i = 0; i < n; i++) {
        if (read(fd, buf, sizeof buf) <= 0)
            return 1;
        lseek(fd, 0, SEEK_SET);
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long n = atol(argv[2]);
    if (strcmp(argv[1], "getpid") == 0) {
        for (long i = 0; i < n; i++)
            syscall(SYS_getpid);
        return 0;
    }
    if (strcmp(argv[1], "read") == 0)
        return ReadFile(n, "/proc/self/exe"); /* its own program file */
    if (strcmp(argv[1], "echo") == 0)
        return Echo(n);
    return 2;
}
