# cortex-m4: arm-none-eabi-gcc (Debian 12: 12.2.1) + newlib-nano, QEMU mps2-an386.
CC        = arm-none-eabi-gcc
SIZE      = arm-none-eabi-size
ARCHFLAGS = -mcpu=cortex-m4 -mthumb -mfloat-abi=soft -ffunction-sections -fdata-sections
CFLAGS    = -std=c99 -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror -O2 $(ARCHFLAGS)
LDFLAGS   = -nostartfiles -T $(TARGETS_DIR)/arm-mps2/mps2.ld --specs=nano.specs --specs=nosys.specs \
            -Wl,--gc-sections
PORT_SRCS = $(TARGETS_DIR)/arm-mps2/startup.S $(TARGETS_DIR)/arm-mps2/port.c $(TARGETS_DIR)/semihost/semihost_io.c $(TARGETS_DIR)/port_text.c
PORT_INCS = -I$(TARGETS_DIR)
RUN       = $(TARGETS_DIR)/cortex-m4/run.sh
# QEMU mps2-an386: 4 MiB ZBT SSRAM1 at 0x0 (code) + 4 MiB ZBT SSRAM2/3 at 0x20000000.
FLASH_BYTES = 4194304
RAM_BYTES   = 4194304
