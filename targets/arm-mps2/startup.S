/* Cortex-M3/M4 startup for QEMU mps2-an385 / mps2-an386.
 * Vector table at 0x00000000 (ZBT SSRAM1, the "flash"), copies .data from
 * flash to RAM, zeroes .bss, calls main() and hands its return value to
 * port_exit(). Every exception ends the run through port_fault(). */
    .syntax unified
    .thumb

    .section .isr_vector,"a",%progbits
    .align 2
    .global __isr_vector
__isr_vector:
    .word _estack           /* initial SP: top of RAM */
    .word Reset_Handler
    .word Fault_Handler     /* NMI */
    .word Fault_Handler     /* HardFault */
    .word Fault_Handler     /* MemManage */
    .word Fault_Handler     /* BusFault */
    .word Fault_Handler     /* UsageFault */
    .word 0, 0, 0, 0
    .word Fault_Handler     /* SVCall */
    .word Fault_Handler     /* DebugMonitor */
    .word 0
    .word Fault_Handler     /* PendSV */
    .word Fault_Handler     /* SysTick */
    .rept 32
    .word Fault_Handler     /* external IRQs (none enabled) */
    .endr

    .text
    .align 2
    .thumb_func
    .global Reset_Handler
    .type Reset_Handler, %function
Reset_Handler:
    ldr   r0, =_sidata
    ldr   r1, =_sdata
    ldr   r2, =_edata
1:  cmp   r1, r2
    bhs   2f
    ldr   r3, [r0], #4
    str   r3, [r1], #4
    b     1b
2:  ldr   r1, =_sbss
    ldr   r2, =_ebss
    movs  r3, #0
3:  cmp   r1, r2
    bhs   4f
    str   r3, [r1], #4
    b     3b
4:  bl    main
    bl    port_exit         /* never returns */
5:  b     5b
    .size Reset_Handler, . - Reset_Handler

    .thumb_func
    .global Fault_Handler
    .type Fault_Handler, %function
Fault_Handler:
    mrs   r0, ipsr          /* exception number */
    b     port_fault
    .size Fault_Handler, . - Fault_Handler
