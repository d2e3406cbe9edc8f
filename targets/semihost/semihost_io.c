/* Console output over semihosting, shared by the Cortex-M and RV32 ports:
 * SYS_WRITEC for one character, SYS_WRITE0 in NUL-terminated chunks of up to
 * 128 characters for strings (NUL bytes in the data are dropped: SYS_WRITE0
 * cannot carry them). */
#include <stddef.h>
#include <stdint.h>

#include "semihost.h"
#include "sne_port_target.h"

void port_putc(char c) { (void)sne_semihost(SYS_WRITEC, &c); }

void port_write(const char *s, size_t n)
{
    char buf[129];
    size_t k = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        if (s[i] == '\0') {
            continue;
        }
        buf[k++] = s[i];
        if (k == sizeof buf - 1u) {
            buf[k] = '\0';
            (void)sne_semihost(SYS_WRITE0, buf);
            k = 0;
        }
    }
    if (k != 0u) {
        buf[k] = '\0';
        (void)sne_semihost(SYS_WRITE0, buf);
    }
}
