/*
 * io.h — small I/O helpers every process uses: write everything (EINTR and
 * short writes handled), write a file in steps and put it in place
 * atomically, and write an output path without ever replacing a device or
 * FIFO by rename.
 *
 * SECURITY: no policy; callers decide paths and modes. io_write_all is on
 * the seccomp allowlist path (write only).
 */
#ifndef MUGAI_IO_H
#define MUGAI_IO_H

#include <stdbool.h>
#include <sys/types.h>
#include "common/defs.h"
#include "common/limits.h"

/* Write all n bytes to fd; 0 or -1 (errno set). */
int io_write_all(int fd, const void *p, size_t n) MUGAI_WUR;
/* Send all n bytes (n >= 1) on the AF_UNIX socket sock with nfd (0..2)
 * descriptors attached to the first part (SCM_RIGHTS); EINTR and short
 * sends handled, no SIGPIPE. 0 or -1 (errno set). */
int io_send_fds(int sock, const void *p, size_t n, const int *fds, int nfd) MUGAI_WUR;
/* Create, write (fsync) and remove a probe file in dir, as the current
 * user (startup checks). 0 or -1 (errno set). */
int io_probe_dir(const char *dir) MUGAI_WUR;

/* A file written in steps and put in place at the end: an unnamed file
 * (O_TMPFILE, mode 0600) in path's directory, so that a process killed
 * before the commit leaves nothing behind; on a file system without
 * O_TMPFILE a temp file path.tmpXXXXXX at once. io_stage_commit fsyncs
 * it and chmods it to mode; when nothing is at path, the unnamed file is
 * linked as path itself (through /proc/self/fd, else by AT_EMPTY_PATH);
 * otherwise it is named path.tmpXXXXXX (linked the same ways, else copied)
 * and renamed over path. io_stage_abort removes it. Each returns 0 or -1 (errno set);
 * after a failed commit the temp file is gone and path untouched. */
typedef struct io_stage {
	char *tmp;  /* NULL when not open */
	int fd;
	bool named; /* tmp exists on disk (else the file is unnamed) */
} io_stage_t;
int io_stage_open(io_stage_t *st, const char *path) MUGAI_WUR;
int io_stage_write(io_stage_t *st, const void *p, size_t n) MUGAI_WUR;
/* Forget what was written (start over). */
int io_stage_truncate(io_stage_t *st) MUGAI_WUR;
int io_stage_commit(io_stage_t *st, const char *path, mode_t mode) MUGAI_WUR;
void io_stage_abort(io_stage_t *st);

/* Replace path with data: one io_stage (written, fsync'd, chmod'd to mode,
 * renamed over path). 0 or -1 (errno set); on failure path is untouched
 * and the temp file removed. */
int io_replace_file(const char *path, const void *data, size_t len, mode_t mode) MUGAI_WUR;

/* Write an output file the user named. A new path or an existing regular
 * file is replaced atomically (io_replace_file); a FIFO or character device
 * is written in place (opened O_WRONLY, never created, renamed or
 * truncated: a FIFO without a reader is refused rather than waited on);
 * anything else (directory, block device, socket) is refused. 0, or -1 with
 * *why set to a static English sentence for the user (errno set). */
int io_write_output(const char *path, const void *data, size_t len, mode_t mode,
		    const char **why) MUGAI_WUR;

/* Remove a stale output: unlink path only when it is a regular file or a
 * symbolic link; devices and FIFOs are left as they are. */
void io_remove_output(const char *path);

#endif
