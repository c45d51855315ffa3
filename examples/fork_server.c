/* A process per connection: the parent accepts and forks; the child closes the listener,
 * echoes until the client closes, and exits. The parent closes its copy of the
 * connection and reaps its children in a SIGCHLD handler, so none stays a zombie.
 * Serves COUNT connections (default 1), waits for the last child and exits. PORT (default
 * 0: the kernel picks) and HOST (default: every address) are where it listens. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sockhelp.h"

static volatile sig_atomic_t reaped;

static void on_sigchld(int sig)
{
    int saved = errno;
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        reaped++;
    errno = saved;
}

/* usage: fork_server [COUNT [PORT [HOST]]] */
int main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 1;
    struct sigaction sa;
    sigset_t block, old;
    int listenfd = open_listenfd_on(argc > 3 ? argv[3] : NULL, argc > 2 ? argv[2] : "0");
    if (listenfd < 0) {
        perror("open_listenfd");
        return 1;
    }
    sa.sa_handler = on_sigchld;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    printf("listening on port %d\n", local_port(listenfd));
    fflush(stdout);
    for (int i = 0; i < count; i++) {
        int conn = accept(listenfd, NULL, NULL);
        if (conn < 0) {
            perror("accept");
            return 1;
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(listenfd);
            echo_until_eof(conn);
            close(conn);
            _exit(0);
        }
        close(conn);
    }
    /* Wait until the handler has reaped every child. */
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old);
    while (reaped < count)
        sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(listenfd);
    printf("served %d connections, reaped %d children\n", count, (int)reaped);
    return 0;
}
