/*
 * jump_shim: loaded by QEMU -kernel as an arm64 Image, entered at EL2 with
 * x0 = DTB; branches to TARGET_ADDRESS with x0..x3 as the boot protocol
 * wants them.
 */
    .text
    .globl _start
_start:
    b       1f                      /* code0 */
    .long   0                       /* code1 */
    .quad   0                       /* text_offset */
    .quad   4096                    /* image_size */
    .quad   0xa                     /* flags: LE, 4 KiB, anywhere */
    .quad   0, 0, 0                 /* res2..res4 */
    .long   0x644d5241              /* "ARM\x64" */
    .long   0
1:  ldr     x4, =TARGET_ADDRESS
    mov     x1, xzr
    mov     x2, xzr
    mov     x3, xzr
    br      x4
    .ltorg
