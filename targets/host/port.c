/* host port: stdio. Counting is done outside the program (valgrind). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sne_port_target.h"

void port_init(void)
{
    /* Keep output ordering deterministic when mixed with stderr. */
    (void)setvbuf(stdout, NULL, _IOLBF, 0);
}

void port_putc(char c) { (void)putchar((unsigned char)c); }

void port_write(const char *s, size_t n) { (void)fwrite(s, 1, n, stdout); }

void port_puts(const char *s) { port_write(s, strlen(s)); }

void port_exit(int code)
{
    (void)fflush(stdout);
    exit(code);
}
