# Shared by the QEMU mps2 boards (cortex-m3: mps2-an385, cortex-m4: mps2-an386): arm-none-eabi-gcc
# (Debian 12: 12.2.1) + newlib-nano. The including target.mk sets MPS2_CPU first.
CC        = arm-none-eabi-gcc
SIZE      = arm-none-eabi-size
ARCHFLAGS = -mcpu=$(MPS2_CPU) -mthumb -mfloat-abi=soft -ffunction-sections -fdata-sections
CFLAGS    = -std=c99 -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror -O2 $(ARCHFLAGS)
LDFLAGS   = -nostartfiles -T $(TARGETS_DIR)/arm-mps2/mps2.ld --specs=nano.specs --specs=nosys.specs \
            -Wl,--gc-sections
PORT_SRCS = $(TARGETS_DIR)/arm-mps2/startup.S $(TARGETS_DIR)/arm-mps2/port.c $(TARGETS_DIR)/semihost/semihost_io.c $(TARGETS_DIR)/port_text.c
PORT_INCS = -I$(TARGETS_DIR)
RUN       = $(TARGETS_DIR)/$(MPS2_CPU)/run.sh
