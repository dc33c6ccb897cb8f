# The KVM probe boot sector (KvmProbe.BOOT_SECTOR_HEX): writes R, P, I to debug port 0x404.
# Build: as --32 -o probe.o kvm-probe.S && ld -m elf_i386 -Ttext 0x7c00 --oformat binary -o probe.bin probe.o
    .code16
    .globl _start
_start:
    cli
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %ss
    movw $0x7c00, %sp
    movw $0x404, %dx
    movb $'R', %al
    outb %al, %dx
    lgdt gdtdesc
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmp $0x08, $pmode
    .code32
pmode:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %ss
    movw %ax, %es
    movl $0x7000, %esp
    movw $0x404, %dx
    movb $'P', %al
    outb %al, %dx
    pushfl
    pushl $0x08
    pushl $after
    iret
after:
    movw $0x404, %dx
    movb $'I', %al
    outb %al, %dx
    movb $'\n', %al
    outb %al, %dx
halt:
    hlt
    jmp halt
    .p2align 3
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff
    .quad 0x00cf92000000ffff
gdtdesc:
    .word 23
    .long gdt
    .org 510
    .byte 0x55, 0xaa
