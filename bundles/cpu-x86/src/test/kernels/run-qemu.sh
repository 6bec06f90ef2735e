#!/bin/sh
# run-qemu.sh KERNEL.elf - boot one system-test kernel under qemu-system-i386
# (TCG) the reference way and print its serial output, with CRs removed.
exec timeout 20 qemu-system-i386 -accel tcg -m 128 -nographic -no-reboot -monitor none \
    -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$1" -append "$1" </dev/null | tr -d '\r'
