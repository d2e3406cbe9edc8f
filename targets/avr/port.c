/* AVR (atmega2560) port for simavr.
 * Output: USART0, polled. simavr prints each completed line on its stderr
 * (green escape codes, '\n' shown as '.'); run.sh decodes that to stdout.
 * Exit: prints "sne-exit: N" then sleeps with interrupts off, which makes
 * simavr stop; run.sh turns the line into its exit status.
 * Cycles: Timer1 runs at clk/1 from port_init(); its overflow interrupt
 * extends it to 64 bits. port_exit prints "sne-count: cycles=N" (cycles from
 * port_init to port_exit, including the few cycles of each overflow ISR). */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <stddef.h>
#include <stdint.h>

#include "sne_port_target.h"

static volatile uint32_t timer1_overflows;

ISR(TIMER1_OVF_vect) { timer1_overflows++; }

void port_init(void)
{
    /* 2 Mbaud (U2X, UBRR=0 at 16 MHz): simavr models the transmit time, and
     * the cycle count includes it, so keep it short: 80 cycles a character. */
    UCSR0A = (uint8_t)(1u << U2X0);
    UBRR0 = 0u;
    UCSR0B = (uint8_t)(1u << TXEN0);
    UCSR0C = (uint8_t)((1u << UCSZ01) | (1u << UCSZ00));
    timer1_overflows = 0;
    TCCR1A = 0;
    TCNT1 = 0;
    TIFR1 = (uint8_t)(1u << TOV1);
    TIMSK1 = (uint8_t)(1u << TOIE1);
    TCCR1B = (uint8_t)(1u << CS10); /* clk/1 */
    sei();
}

void port_putc(char c)
{
    while ((UCSR0A & (1u << UDRE0)) == 0u) {
    }
    UDR0 = (uint8_t)c;
}

void port_write(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        port_putc(s[i]);
    }
}

void port_exit(int code)
{
    uint16_t t;
    uint64_t cycles;
    cli();
    t = TCNT1; /* read while running: simavr computes TCNT from its cycle count */
    if ((TIFR1 & (1u << TOV1)) != 0u && t < 0x8000u) { /* wrap not yet serviced */
        timer1_overflows++;
    }
    TCCR1B = 0; /* stop Timer1 */
    cycles = ((uint64_t)timer1_overflows << 16) | t;
    if (TIMSK1 != 0u) { /* port_init ran: the count is meaningful */
        port_puts("sne-count: cycles=");
        port_put_dec(cycles);
        port_putc('\n');
    }
    port_puts("sne-exit: ");
    port_put_dec((uint64_t)((unsigned)code & 0xffu));
    port_putc('\n');
    while ((UCSR0A & (1u << TXC0)) == 0u && (UCSR0B & (1u << TXEN0)) != 0u) {
    }
    SMCR = (uint8_t)(1u << SE);
    for (;;) {
        __asm__ volatile("cli\n\tsleep" ::: "memory");
    }
}

/* Returning from main() calls exit(), whose .fini9..0 chain ends in an
 * endless loop; hook .fini8 so the status (still in r25:r24) reaches
 * port_exit() instead. */
void sne_avr_fini(void) __attribute__((naked, used, section(".fini8")));
void sne_avr_fini(void) { __asm__ volatile("jmp port_exit"); }
