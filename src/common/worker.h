/*
 * worker.h — the one worker layer. A worker is a forked child that enters
 * the sandbox (sandbox.h) before it touches hostile bytes and answers each
 * job with one frame [u64 length][bytes] on a pipe or socket. Two users:
 *   - one-shot (the CLI): worker_run forks a child per job; with
 *     worker_run_spill the child may first hand over parts of its output
 *     (frames whose length has WORKER_SPILL_FLAG set);
 *   - persistent (mugaid, daemon/sanitizer.c): one child serves many jobs
 *     received as sealed memfds; it frames its answers with
 *     worker_send_result and the parent reads them with worker_recv_result.
 * Both read the frame under the wall clock and the result cap, report the
 * same statuses and reap the same way.
 *
 * SECURITY: the parent treats the frame as an opaque, length-checked blob
 * (at most result_size_max, spilled parts included, each part at most
 * WORKER_SPILL_MAX); it never interprets it here. A child that
 * cannot install its sandbox exits WORKER_EXIT_NO_SANDBOX and never runs
 * the job (DESIGN.md promise 5).
 */
#ifndef MUGAI_WORKER_H
#define MUGAI_WORKER_H

#include <stdbool.h>
#include <sys/types.h>
#include "common/buf.h"
#include "common/limits.h"

typedef enum {
	WORKER_OK,         /* the child returned a result */
	WORKER_CRASHED,    /* killed by a signal, or exited non-zero, or a broken frame */
	WORKER_TIMEOUT,    /* wall clock or CPU limit */
	WORKER_TOO_BIG,    /* result larger than allowed */
	WORKER_NO_SANDBOX, /* the sandbox could not be installed */
	WORKER_SYSERR,     /* fork/pipe failed, no worker: an infrastructure error */
} worker_status_t;

/* The exit status of a child whose sandbox could not be installed. */
#define WORKER_EXIT_NO_SANDBOX 3

/* CLOCK_MONOTONIC in milliseconds (deadlines). */
long long worker_now_ms(void);
/* Child side: send out as one frame. 0 or -1. */
int worker_send_result(int fd, const buf_t *out) MUGAI_WUR;
/* Parent side: read one frame of at most max bytes into result (replacing
 * its contents) before deadline_ms (worker_now_ms clock). */
worker_status_t worker_recv_result(int fd, long long deadline_ms, size_t max, buf_t *result);
/* Read exactly n bytes before deadline_ms: 0, -1 (EOF or error) or
 * WORKER_READ_LATE (deadline). */
#define WORKER_READ_LATE 1
int worker_read_full(int fd, void *p, size_t n, long long deadline_ms);
/* Kill (when kill_first) and wait for pid. Returns its exit status, or
 * 128 + signal, or -1; *sig gets the signal that ended it (0: exited). */
int worker_reap(pid_t pid, bool kill_first, int *sig);

/* One-shot: runs in the child, inside the sandbox; writes its result into out. */
typedef int (*worker_fn)(void *arg, buf_t *out);

/* Fork a sandboxed child that runs fn(arg) and sends back its result
 * (at most out_max bytes, read straight into result, replacing what it
 * held) over a pipe; the parent enforces wall_time_max with SIGKILL,
 * RLIMIT_CPU (set in the child) cpu_time_max. */
worker_status_t worker_run(const limits_t *l, worker_fn fn, void *arg, size_t out_max,
			   buf_t *result);

/* Spilling (one-shot only): before its result, the child may hand over
 * parts of its output with worker_spill; the parent gives each to
 * spill(arg, bytes, n) as it arrives (a frame whose length has
 * WORKER_SPILL_FLAG set, each at most WORKER_SPILL_MAX bytes), and the
 * spilled bytes and the result together stay within out_max. A spill()
 * that returns -1 ends the job: WORKER_SYSERR, the child killed. */
#define WORKER_SPILL_FLAG (1ull << 63)
typedef int (*worker_spill_fn)(void *arg, const char *p, size_t n);
worker_status_t worker_run_spill(const limits_t *l, worker_fn fn, void *arg, size_t out_max,
				 buf_t *result, worker_spill_fn spill, void *spill_arg);
/* Child side: hand over n bytes now. -1 outside a one-shot child of
 * worker_run_spill, or when the parent stopped reading. */
int worker_spill(const void *p, size_t n) MUGAI_WUR;
/* "ok", "worker-crash", "timeout", "result-too-big", "no-sandbox", "system-error". */
const char *worker_status_name(worker_status_t s);

#endif
