/*
 * io.h — small I/O helpers every process uses: write everything (EINTR and
 * short writes handled), and replace a file atomically.
 *
 * SECURITY: no policy; callers decide paths and modes. io_write_all is on
 * the seccomp allowlist path (write only).
 */
#ifndef MUGAI_IO_H
#define MUGAI_IO_H

#include <sys/types.h>
#include "common/defs.h"

/* Write all n bytes to fd; 0 or -1 (errno set). */
int io_write_all(int fd, const void *p, size_t n) MUGAI_WUR;

/* Replace path with data: a temp file in the same directory, written,
 * fsync'd, chmod'd to mode, then renamed over path. 0 or -1 (errno set);
 * on failure path is untouched and the temp file removed. */
int io_replace_file(const char *path, const void *data, size_t len, mode_t mode) MUGAI_WUR;

#endif
