/*
 * sandbox.h — confine the current process before it touches hostile bytes:
 * rlimits (address space, CPU, no new files, no core dumps), no_new_privs,
 * and a default-deny seccomp filter that allows only memory management,
 * reads and writes on already-open descriptors, time, randomness and exit.
 * open(), socket(), execve(), fork() and everything else kill the process.
 *
 * SECURITY: failure to install any part is fatal for the caller: a worker
 * that cannot be sandboxed must not run (DESIGN.md promise 5).
 */
#ifndef MUGAI_SANDBOX_H
#define MUGAI_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>
#include "common/buf.h"
#include "common/limits.h"

/* Close every descriptor except those listed (e.g. the result pipe). */
void sandbox_close_fds(const int *keep, int n);
/* Apply rlimits + no_new_privs + seccomp. 0 or -1 (errno set). */
int sandbox_enter(const limits_t *l) MUGAI_WUR;
/* The same, plus recvmsg() on the one descriptor sock: for a persistent
 * worker (mugaid) that receives each job's message as a memfd (SCM_RIGHTS). */
int sandbox_enter_recv(const limits_t *l, int sock) MUGAI_WUR;
/* mugaid's session process after its setup (a second, wider policy):
 * no_new_privs and a default-kill filter that allows SMTP on descriptors it
 * holds, TCP sockets for the next hop, the memfd spool, its worker (fork,
 * socketpair, kill, wait, prlimit) and nothing that opens a path; maildir:
 * also the calls that write a Maildir next hop; unix_log: AF_UNIX sockets
 * (syslog, or clamd's socket with antivirus = clamd:/path). No rlimits (the
 * worker sets its own). 0 or -1. */
int sandbox_enter_session(bool maildir, bool unix_log) MUGAI_WUR;

/* CPU milliseconds used so far by process pid (its CPU clock), or -1. */
long long sandbox_cpu_ms(pid_t pid);
/* Before each job of a persistent worker (sandbox_enter_recv): give it
 * cpu_time_max more seconds from now (RLIMIT_CPU soft limit, raised with
 * prlimit: a backstop; the parent also measures each job on the worker's
 * CPU clock). Returns the CPU ms used before the job, or -1. */
long long sandbox_cpu_job(pid_t pid, const limits_t *l);

#endif
