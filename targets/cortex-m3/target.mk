# cortex-m3: QEMU mps2-an385 (shared mps2 settings in ../arm-mps2/mps2.mk).
MPS2_CPU   = cortex-m3
include $(TARGETS_DIR)/arm-mps2/mps2.mk
# QEMU mps2-an385: 4 MiB ZBT SSRAM1 at 0x0 (code) + 4 MiB ZBT SSRAM2/3 at 0x20000000.
FLASH_BYTES = 4194304
RAM_BYTES   = 4194304
