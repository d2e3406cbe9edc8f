# riscv32: riscv64-unknown-elf-gcc 12.2 (multilib rv32imc/ilp32) + picolibc,
# QEMU riscv32 virt (-bios none, M-mode).
CC        = riscv64-unknown-elf-gcc
SIZE      = riscv64-unknown-elf-size
ARCHFLAGS = -march=rv32imc -mabi=ilp32 -mcmodel=medany --specs=picolibc.specs \
            -ffunction-sections -fdata-sections
CFLAGS    = -std=c99 -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror -O2 $(ARCHFLAGS)
LDFLAGS   = -nostartfiles -T $(TARGETS_DIR)/riscv32/virt.ld -Wl,--gc-sections
PORT_SRCS = $(TARGETS_DIR)/riscv32/startup.S $(TARGETS_DIR)/riscv32/port.c $(TARGETS_DIR)/semihost/semihost_io.c $(TARGETS_DIR)/port_text.c
PORT_INCS = -I$(TARGETS_DIR)
RUN       = $(TARGETS_DIR)/riscv32/run.sh
# Our linker script's split of virt DRAM (0x80000000): 4 MiB flash + 4 MiB RAM.
FLASH_BYTES = 4194304
RAM_BYTES   = 4194304
