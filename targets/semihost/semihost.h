/* Semihosting calls shared by the ARM (bkpt 0xAB) and RISC-V (ebreak sequence) ports.
 * Each port provides sne_semihost(); semihost_io.c builds the console on it. */
#ifndef SNE_SEMIHOST_H
#define SNE_SEMIHOST_H
#include <stdint.h>

#define SYS_WRITEC 0x03u
#define SYS_WRITE0 0x04u

/* One semihosting call: operation number in, result out (port-specific trap). */
uint32_t sne_semihost(uint32_t op, const void *arg);

#endif /* SNE_SEMIHOST_H */
