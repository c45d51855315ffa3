/* Helpers shared by the example programs: open_listenfd and open_clientfd with
 * getaddrinfo (every address it offers is tried in turn), and a loop that writes a
 * whole buffer. Small on purpose: each is what a lecture would put on one slide. */
#ifndef SOCKSCOPE_EXAMPLES_SOCKHELP_H
#define SOCKSCOPE_EXAMPLES_SOCKHELP_H

#include <stddef.h>
#include <sys/types.h>

/* A listening socket on `port` ("0": the kernel picks one) on every local address of the
 * first family that works, or -1. */
int open_listenfd(const char *port);
/* The same on `host` only ("127.0.0.1": reachable from this machine alone); NULL is
 * every address, as open_listenfd (getaddrinfo's AI_PASSIVE matters only then). */
int open_listenfd_on(const char *host, const char *port);
/* A socket connected to host:port, or -1 (errno from the last attempt). */
int open_clientfd(const char *host, const char *port);
/* The port a socket is bound to (getsockname), or -1. */
int local_port(int fd);
/* write() until every byte went or an error: the number written, or -1. */
ssize_t write_all(int fd, const void *buf, size_t len);
/* The echo service: read() and write back what came until the client closes (read
 * returns 0) or an error; does not close fd. */
void echo_until_eof(int fd);

#endif
