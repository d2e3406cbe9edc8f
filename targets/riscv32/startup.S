/* RV32 startup for QEMU virt (-bios none): QEMU's reset stub jumps to
 * 0x80000000 in M-mode. Sets gp/sp, copies .data, zeroes .bss, installs a
 * trap vector that ends the run, calls main(), hands its result to port_exit. */
    .section .text.init,"ax",@progbits
    .global _start
_start:
    .option push
    .option norelax
    la    gp, __global_pointer$
    .option pop
    la    sp, __stack_top
    la    a0, __data_load
    la    a1, __data_start
    la    a2, __data_end
1:  bgeu  a1, a2, 2f
    lw    t0, 0(a0)
    sw    t0, 0(a1)
    addi  a0, a0, 4
    addi  a1, a1, 4
    j     1b
2:  la    a1, __bss_start
    la    a2, __bss_end
3:  bgeu  a1, a2, 4f
    sw    zero, 0(a1)
    addi  a1, a1, 4
    j     3b
4:  la    t0, sne_trap
    .option push
    .option arch, +zicsr
    csrw  mtvec, t0
    .option pop
    call  main
    call  port_exit
5:  j     5b

    .align 2
sne_trap:
    .option push
    .option arch, +zicsr
    csrr  a0, mcause
    csrr  a1, mepc
    .option pop
    la    sp, __stack_top
    call  port_fault
6:  j     6b

/* uint32_t sne_semihost(uint32_t op, const void *arg): RISC-V semihosting
 * trap. The three-instruction sequence must be uncompressed and must not
 * cross a page, hence norvc and the alignment. */
    .text
    .balign 16
    .global sne_semihost
    .type sne_semihost, @function
sne_semihost:
    .option push
    .option norvc
    slli  x0, x0, 0x1f
    ebreak
    srai  x0, x0, 7
    .option pop
    ret
    .size sne_semihost, . - sne_semihost
