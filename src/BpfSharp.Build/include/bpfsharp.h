/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * BpfSharp's additions for BPF C programs, on the include path of every BpfSource that BpfSharp.Build compiles.
 */
#ifndef __BPFSHARP_H
#define __BPFSHARP_H

#define ___bpfsharp_concat(a, b) a##b
#define __bpfsharp_concat(a, b) ___bpfsharp_concat(a, b)

/*
 * BPFSHARP_TYPE(struct event);
 *
 * Puts a type into the object's BTF so that the skeleton declares it in C#. Clang writes BTF only for the types of
 * globals, maps and function signatures, so a record a program only builds through a local pointer (a ring buffer
 * or perf event) is missing otherwise. It costs an unused pointer in a section of its own, which the BpfSharp
 * loader and libbpf both skip: nothing is created in the kernel.
 */
#define BPFSHARP_TYPE(type) \
	type *__bpfsharp_concat(__bpfsharp_type_, __COUNTER__) __attribute__((unused, section(".bpfsharp.types")))

#endif /* __BPFSHARP_H */
