/* The iterative echo server of CS:APP: open_listenfd (getaddrinfo, then socket, setsockopt
 * SO_REUSEADDR, bind and listen on the first address that works), then one connection at
 * a time: accept, echo until the client closes, close, accept the next. Serves COUNT
 * connections (default 1) and exits.
 * usage: echo_server [COUNT [PORT [HOST]]] (default 0: the kernel picks; every address) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockhelp.h"

int main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 1;
    int listenfd = open_listenfd_on(argc > 3 ? argv[3] : NULL, argc > 2 ? argv[2] : "0");
    if (listenfd < 0) {
        perror("open_listenfd");
        return 1;
    }
    printf("listening on port %d\n", local_port(listenfd));
    fflush(stdout);
    for (int i = 0; i < count; i++) {
        int conn = accept(listenfd, NULL, NULL);
        if (conn < 0) {
            perror("accept");
            return 1;
        }
        echo_until_eof(conn);
        close(conn);
    }
    close(listenfd);
    printf("served %d connections\n", count);
    return 0;
}
