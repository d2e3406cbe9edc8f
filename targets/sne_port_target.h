/*
 * sne_port_target.h - the only interface between portable code (the sne
 * C runtime, generated model files, generated drivers, the smoke test) and a
 * target's port glue in targets/<target>/.
 *
 * Port glue never carries semantics: it only moves characters out, ends the
 * program with a status, and tells portable code how to read const tables
 * that live in flash.
 */
#ifndef SNE_PORT_TARGET_H
#define SNE_PORT_TARGET_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define SNE_PORT_NORETURN __attribute__((__noreturn__))
#else
#define SNE_PORT_NORETURN
#endif

/*
 * Flash-resident constant data.
 *
 *   static const SNE_FLASH int8_t w[] = { ... };
 *   int8_t v = SNE_LOAD_I8(&w[i]);
 *
 * Every pointer that may point into such a table must carry the qualifier:
 *   int32_t dot(const SNE_FLASH int8_t *w, ...);
 *
 * On every target except AVR, SNE_FLASH is empty and SNE_LOAD_* is a plain
 * dereference (tables are in read-only memory via .rodata anyway).
 * On AVR (atmega2560: Harvard, 8 KiB RAM, 256 KiB flash) SNE_FLASH is the
 * avr-gcc named address space __memx: the object is placed in flash
 * (.progmemx) and pointers to it are 24-bit, so tables larger than 64 KiB
 * and tables above the first 64 KiB of flash are readable. The compiler
 * emits the ELPM loads; SNE_LOAD_* stays a dereference.
 * Never pass a SNE_FLASH pointer to memcpy/memcmp/strlen etc.: on AVR those
 * take RAM pointers. Copy element by element through SNE_LOAD_*.
 */
#if defined(__AVR__)
#define SNE_FLASH __memx
#else
#define SNE_FLASH
#endif

#define SNE_LOAD_I8(p)  (*(p))
#define SNE_LOAD_U8(p)  (*(p))
#define SNE_LOAD_I16(p) (*(p))
#define SNE_LOAD_U16(p) (*(p))
#define SNE_LOAD_I32(p) (*(p))
#define SNE_LOAD_U32(p) (*(p))

/* Call once, first thing in main(). */
void port_init(void);

/* Output to the run's stdout (run.sh passes it through). '\n' ends a line. */
void port_putc(char c);
void port_write(const char *s, size_t n);
void port_puts(const char *s); /* NUL-terminated, no newline added */
void port_put_dec(uint64_t v); /* unsigned decimal, no newline (bare-metal ports) */

/*
 * End the run with this status (0..255); run.sh exits with it. Returning
 * from main(code) is equivalent to port_exit(code) on every target.
 * On targets with an in-program counter, port_exit first emits one line
 * "sne-count: ..." which run.sh moves from stdout to stderr.
 */
SNE_PORT_NORETURN void port_exit(int code);

#endif /* SNE_PORT_TARGET_H */
