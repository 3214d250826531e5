/* we_compiler.h - compiler hints shared by every module (no DPDK). */
#ifndef WE_COMPILER_H
#define WE_COMPILER_H

#define we_likely(x)   __builtin_expect(!!(x), 1)
#define we_unlikely(x) __builtin_expect(!!(x), 0)

/* Read prefetch into all cache levels; the hot path's one prefetch primitive. */
#define we_prefetch(p) __builtin_prefetch((p), 0, 3)
/* Prefetch for a coming write (PUT into a bucket). */
#define we_prefetch_w(p) __builtin_prefetch((p), 1, 3)

#define WE_CACHE_LINE 64
#define we_cache_aligned __attribute__((aligned(WE_CACHE_LINE)))
#define we_must_check __attribute__((warn_unused_result))
#define we_unused __attribute__((unused))

#define WE_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
