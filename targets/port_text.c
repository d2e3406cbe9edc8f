/* Text helpers built on a port's port_write(), shared by the bare-metal ports
 * (Cortex-M, RV32, AVR): strings and unsigned decimal numbers. */
#include <stddef.h>
#include <stdint.h>

#include "sne_port_target.h"

void port_puts(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') {
        n++;
    }
    port_write(s, n);
}

void port_put_dec(uint64_t v)
{
    char buf[21];
    size_t k = sizeof buf;
    do {
        buf[--k] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    port_write(&buf[k], sizeof buf - k);
}
