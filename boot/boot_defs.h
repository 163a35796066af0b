/*
 * Constants shared by boot/head.S and C++. Assembly cannot include the C++
 * headers, so the values are here, and boot/early.cpp static_asserts that
 * the C++ side agrees.
 */
#ifndef SETWISE_BOOT_DEFS_H
#define SETWISE_BOOT_DEFS_H

#define MAX_CPUS 16
#define BOOT_STACK_SIZE 16384
#define R_AARCH64_RELATIVE 1027

#endif
