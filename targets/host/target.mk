# host: the machine's own cc (gcc on Debian 12). No emulator.
CC        = cc
SIZE      = size
ARCHFLAGS =
CFLAGS    = -std=c99 -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror -O2 $(ARCHFLAGS)
LDFLAGS   =
PORT_SRCS = $(TARGETS_DIR)/host/port.c
PORT_INCS = -I$(TARGETS_DIR)
RUN       = $(TARGETS_DIR)/host/run.sh
# Not a constrained board: 0 means "no limit".
FLASH_BYTES = 0
RAM_BYTES   = 0
