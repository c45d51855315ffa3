/* A thread per connection. startup() binds PORT on 127.0.0.1 (default 0: the kernel picks
 * a free port, which getsockname tells) and prints it; each accepted connection gets a
 * thread that echoes what it reads until the client closes. Serves COUNT connections
 * (default 1), joins its threads and exits. usage: thread_server [COUNT [PORT]] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockhelp.h"

static int startup(unsigned short port)
{
    struct sockaddr_in addr;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 5) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void *serve(void *arg)
{
    int fd = (int)(long)arg;
    echo_until_eof(fd);
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 1;
    pthread_t *threads = calloc((size_t)(count > 0 ? count : 1), sizeof *threads);
    int listenfd = startup((unsigned short)(argc > 2 ? atoi(argv[2]) : 0));
    if (listenfd < 0 || !threads) {
        perror("startup");
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
        if (pthread_create(&threads[i], NULL, serve, (void *)(long)conn) != 0) {
            close(conn);
            return 1;
        }
    }
    for (int i = 0; i < count; i++)
        pthread_join(threads[i], NULL);
    close(listenfd);
    free(threads);
    printf("served %d connections\n", count);
    return 0;
}
