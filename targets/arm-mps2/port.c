/* Cortex-M port for QEMU mps2 boards: ARM semihosting (bkpt 0xAB).
 * Output: semihost/semihost_io.c. Exit: SYS_EXIT_EXTENDED carries the status. */
#include <stddef.h>
#include <stdint.h>

#include "semihost/semihost.h"
#include "sne_port_target.h"

#define SYS_EXIT          0x18u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_Stopped_ApplicationExit 0x20026u
#define ADP_Stopped_RunTimeErrorUnknown 0x20023u

uint32_t sne_semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void port_init(void) {}

void port_exit(int code)
{
    uint32_t block[2];
    block[0] = ADP_Stopped_ApplicationExit;
    block[1] = (uint32_t)code & 0xffu;
    (void)sne_semihost(SYS_EXIT_EXTENDED, block);
    /* Fallback for hosts without SYS_EXIT_EXTENDED: 0 or 1 only. */
    (void)sne_semihost(SYS_EXIT, (const void *)(uintptr_t)(code == 0 ? ADP_Stopped_ApplicationExit
                                                                  : ADP_Stopped_RunTimeErrorUnknown));
    for (;;) {
    }
}

/* Called from Fault_Handler (startup.S) with the exception number. */
void port_fault(uint32_t ipsr);
void port_fault(uint32_t ipsr)
{
    char msg[] = "\nsne-fault: exception ??\n";
    msg[22] = (char)('0' + (ipsr / 10u) % 10u);
    msg[23] = (char)('0' + ipsr % 10u);
    port_puts(msg);
    port_exit(70);
}
