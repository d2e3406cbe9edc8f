# avr: avr-gcc 5.4 + avr-libc for ATmega2560 (256 KiB flash, 8 KiB SRAM),
# run in simavr at 16 MHz.
# -std=gnu99 comes after -std=c99 on purpose: avr-gcc only knows the named
# address space __memx (SNE_FLASH, 24-bit flash pointers) in GNU mode. The
# same sources are compiled with strict -std=c99 on every other target.
CC        = avr-gcc
SIZE      = avr-size
MCU       = atmega2560
F_CPU     = 16000000
ARCHFLAGS = -mmcu=$(MCU) -DF_CPU=$(F_CPU)UL -std=gnu99 -ffunction-sections -fdata-sections
CFLAGS    = -std=c99 -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror -O2 $(ARCHFLAGS)
LDFLAGS   = -mmcu=$(MCU) -Wl,--gc-sections
PORT_SRCS = $(TARGETS_DIR)/avr/port.c $(TARGETS_DIR)/port_text.c
PORT_INCS = -I$(TARGETS_DIR)
RUN       = $(TARGETS_DIR)/avr/run.sh
FLASH_BYTES = 262144
RAM_BYTES   = 8192
