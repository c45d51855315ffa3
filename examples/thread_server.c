/* A thread per connection. startup() binds port 0 on 127.0.0.1 (the kernel picks a free
 * port) and prints it; each accepted connection gets a thread that echoes what it reads
 * until the client closes. Serves N connections (argument, default 1), joins its threads
 * and exits. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockhelp.h"

static int startup(void)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(0);
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
    int listenfd = startup();
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
