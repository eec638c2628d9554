// Per-thread state the Swift side cannot keep cheaply: whether Parallel runs jobs inline on
// this thread (set while a thread runs its own share of a batch), and the counter of a shared
// work queue.
#include "rp_kernels.h"

static _Thread_local int rp_inline_depth = 0;

int rp_parallel_inline(void) { return rp_inline_depth; }
void rp_parallel_inline_push(void) { rp_inline_depth += 1; }
void rp_parallel_inline_pop(void) { if (rp_inline_depth > 0) rp_inline_depth -= 1; }

long rp_atomic_next(long *counter) { return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED); }

#if defined(__GLIBC__)
#include <malloc.h>
void rp_keep_freed_memory(void) {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
    mallopt(M_TOP_PAD, 256 << 20);
}
#else
void rp_keep_freed_memory(void) {}
#endif
