/* A server that listens and never accepts: connections complete their handshake and
 * wait in the accept queue (backlog 2 here: at most 3 of them), the rest wait in SYN-SENT.
 * Prints its port, then waits until its standard input closes (or a line arrives). */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockhelp.h"

int main(void)
{
    char line[64];
    int fd = open_listenfd("0");
    if (fd < 0) {
        perror("open_listenfd");
        return 1;
    }
    listen(fd, 2); /* a smaller backlog than open_listenfd's */
    printf("listening on port %d, never accepting\n", local_port(fd));
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin))
        line[0] = 0;
    close(fd);
    return 0;
}
