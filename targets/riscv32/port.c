/* RV32 port for QEMU virt: RISC-V semihosting (SYS_WRITEC/SYS_WRITE0) for
 * output, the SiFive test finisher at 0x100000 for the exit status. The
 * instruction count comes from minstret, which QEMU derives from its icount
 * (exact and reproducible when run.sh starts QEMU with -icount
 * shift=0,sleep=off; without sleep=off the icount bias drifts).
 * Why not the virt NS16550A UART: QEMU models its transmit time in virtual
 * time, so polling LSR.THRE spins a host-dependent number of instructions
 * and the count would not be reproducible. Semihosting costs a fixed number
 * of instructions per call. */
#include <stddef.h>
#include <stdint.h>

#include "semihost/semihost.h" /* sne_semihost is in startup.S */
#include "sne_port_target.h"

#define TEST_FINISHER 0x00100000u
#define FINISHER_PASS 0x5555u
#define FINISHER_FAIL 0x3333u

static volatile uint32_t *const finisher = (volatile uint32_t *)TEST_FINISHER;

static uint64_t read_minstret(void)
{
    uint32_t hi;
    uint32_t lo;
    uint32_t hi2;
    do {
        __asm__ volatile(".option push\n\t.option arch, +zicsr\n\t"
                         "csrr %0, minstreth\n\tcsrr %1, minstret\n\tcsrr %2, minstreth\n\t"
                         ".option pop"
                         : "=r"(hi), "=r"(lo), "=r"(hi2));
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}

void port_init(void) {}

void port_exit(int code)
{
    uint64_t n = read_minstret();
    uint32_t status = (uint32_t)code & 0xffu;
    port_puts("sne-count: instructions=");
    port_put_dec(n);
    port_putc('\n');
    *finisher = status == 0u ? FINISHER_PASS : ((status << 16) | FINISHER_FAIL);
    for (;;) {
    }
}

void port_fault(uint32_t mcause, uint32_t mepc);
void port_fault(uint32_t mcause, uint32_t mepc)
{
    static const char hex[] = "0123456789abcdef";
    char buf[8];
    int i;
    port_puts("\nsne-fault: mcause=");
    port_putc(hex[mcause & 0xfu]);
    port_puts(" mepc=0x");
    for (i = 0; i < 8; i++) {
        buf[i] = hex[(mepc >> (28 - 4 * i)) & 0xfu];
    }
    port_write(buf, sizeof buf);
    port_putc('\n');
    *finisher = (70u << 16) | FINISHER_FAIL;
    for (;;) {
    }
}
