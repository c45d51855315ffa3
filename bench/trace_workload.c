/* The programs bench_trace times: `trace_workload getpid N` calls getpid() N times (a call
 * the tracer's filter lets through without a stop); `trace_workload connect N` makes N
 * connections to its own listener on 127.0.0.1, accepting and closing each (every call a
 * stop). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

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
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 128) != 0)
        return 1;
    getsockname(l, (struct sockaddr *)&a, &len);
    for (long i = 0; i < n; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        /* SO_LINGER {1, 0}: close() resets, so no TIME-WAIT piles up over the run */
        struct linger lg = {1, 0};
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        if (connect(c, (struct sockaddr *)&a, sizeof a) != 0)
            return 1;
        int s = accept(l, NULL, NULL);
        close(c);
        close(s);
    }
    (void)one;
    return 0;
}
