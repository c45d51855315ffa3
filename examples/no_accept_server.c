/* A server that listens and never accepts: connections complete their handshake and
 * wait in the accept queue (backlog 2 here: at most 3 of them), the rest wait in SYN-SENT.
 * Prints its port, then waits for a line on its standard input; at the end of that input
 * (stdin is /dev/null, or closed) it waits until it is killed.
 * usage: no_accept_server [PORT [HOST]] (default 0: the kernel picks; every address) */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockhelp.h"

int main(int argc, char **argv)
{
    char line[64];
    int fd = open_listenfd_on(argc > 2 ? argv[2] : NULL, argc > 1 ? argv[1] : "0");
    if (fd < 0) {
        perror("open_listenfd");
        return 1;
    }
    listen(fd, 2); /* a smaller backlog than open_listenfd's */
    printf("listening on port %d, never accepting\n", local_port(fd));
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin))
        for (;;)
            pause();
    close(fd);
    return 0;
}
