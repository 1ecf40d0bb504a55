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
 * globals, maps and function signatures, so a record that only lives in local variables (a pointer from
 * bpf_ringbuf_reserve, a struct on the stack for bpf_ringbuf_output or bpf_perf_event_output) is missing otherwise. It costs an unused pointer in a section of its own, which the BpfSharp
 * loader and libbpf both skip: nothing is created in the kernel.
 */
#define BPFSHARP_TYPE(type) \
	type *__bpfsharp_concat(__bpfsharp_type_, __COUNTER__) __attribute__((unused, section(".bpfsharp.types")))

/*
 * bpf_ringbuf_submit(record, bpfsharp_ringbuf_wakeup(&ring, threshold));
 *
 * The flags that wake the ring buffer's reader only once `threshold` bytes are waiting (BPF_RB_FORCE_WAKEUP) and
 * never before (BPF_RB_NO_WAKEUP), for a reader that also drains on a timer (RingBuffer.MaxLatency). A wakeup
 * per record costs the producing program an interrupt: about 20 us in a VM, many times a tracing program's work.
 */
#define bpfsharp_ringbuf_wakeup(ring, threshold) \
	(bpf_ringbuf_query((ring), BPF_RB_AVAIL_DATA) >= (threshold) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP)

#endif /* __BPFSHARP_H */
