/* open_clientfd(host, port), send each further argument as a line, read the echo back
 * and print it, then close. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sockhelp.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: echo_client HOST PORT [LINE...]\n");
        return 2;
    }
    int fd = open_clientfd(argv[1], argv[2]);
    if (fd < 0) {
        perror("open_clientfd");
        return 1;
    }
    for (int i = 3; i < argc; i++) {
        char buf[512];
        size_t len = strlen(argv[i]), got = 0;
        if (len >= sizeof buf)
            len = sizeof buf - 1;
        if (write_all(fd, argv[i], len) < 0)
            return 1;
        while (got < len) {
            ssize_t n = read(fd, buf + got, len - got);
            if (n <= 0)
                return 1;
            got += (size_t)n;
        }
        buf[got] = 0;
        printf("echo: %s\n", buf);
    }
    close(fd);
    return 0;
}
