/*
 * defs.h — project-wide macros: the error convention and small helpers.
 *
 * Convention: library functions return 0 on success and -1 on failure (or a
 * status enum), have one `goto out` exit, and are marked MUGAI_WUR so that a
 * caller cannot ignore a failure. fatal()-style exits belong to program setup.
 *
 * SECURITY: header only; no state.
 */
#ifndef MUGAI_DEFS_H
#define MUGAI_DEFS_H

#include <stddef.h>
#include <stdint.h>

#define MUGAI_WUR __attribute__((warn_unused_result))
#define MUGAI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define MUGAI_UNUSED __attribute__((unused))
#define MUGAI_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses of the programs (sysexits.h values). */
enum {
	MUGAI_EXIT_OK = 0,
	MUGAI_EXIT_USAGE = 64,
	MUGAI_EXIT_DATAERR = 65,
	MUGAI_EXIT_SOFTWARE = 70,
	MUGAI_EXIT_IOERR = 74,
	MUGAI_EXIT_TEMPFAIL = 75,
	MUGAI_EXIT_CONFIG = 78,
};

/* Checked size arithmetic: return -1 on overflow. */
static inline int size_add(size_t a, size_t b, size_t *r)
{
	return __builtin_add_overflow(a, b, r) ? -1 : 0;
}

static inline int size_mul(size_t a, size_t b, size_t *r)
{
	return __builtin_mul_overflow(a, b, r) ? -1 : 0;
}

#endif
