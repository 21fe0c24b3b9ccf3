/*
 * storeclient.h — the mugaid side of the store process (storeproc.c): start
 * one (fork + exec of mugaid-store with one end of a socketpair as its
 * descriptor 3), open a channel per session through the daemon store's
 * control channel, and make blocking calls with a deadline.
 *
 * SECURITY: session, releaser and master. Answers are decoded by
 * storewire_decode_ans (checked lengths and fields); a descriptor is only
 * accepted with an OK answer that announces one.
 */
#ifndef MUGAI_DAEMON_STORECLIENT_H
#define MUGAI_DAEMON_STORECLIENT_H

#include <stdbool.h>
#include <sys/types.h>
#include "common/buf.h"
#include "common/config.h"
#include "store/storewire.h"

struct daemon_ctx;

typedef struct storecl {
	int fd;      /* -1: no store process */
	pid_t pid;   /* the store process (the caller reaps it) */
	int timeout_ms;
	buf_t in;    /* the last answer; sw_ans_t strings point into it */
	char err[SW_ERRMSG_MAX + 64];
	uint32_t cls; /* class of the last failure (SW_E_*) */
	bool owed;   /* a request sent by storecl_send whose answer is unread */
	char owed_what[SW_ERRMSG_MAX]; /* what it was, for the log line of its failure */
	unsigned pending; /* requests sent by storecl_begin whose answers are unread */
} storecl_t;

/* Create the socketpair and start a store process: role "daemon" (mugaid's
 * one store process; c->fd is its control channel, see storecl_attach) or
 * "master" (the startup check; c->fd is the channel to call). */
int storecl_spawn(const struct daemon_ctx *d, const char *role, storecl_t *c) MUGAI_WUR;
/* A new channel to the daemon store process behind the control channel
 * ctl, for a peer of role 's' (session) or 'r' (releaser): the far end of a
 * socketpair goes to the store with the role, *fd is the near end (the
 * master hands it to the child it forks next, which attaches with
 * storecl_init). */
int storecl_attach(int ctl, char role, int *fd) MUGAI_WUR;
/* Attach to an existing channel (fd; -1: none), caps and deadline from cfg. */
void storecl_init(storecl_t *c, int fd, const cfg_t *cfg);
/* Reads an owed answer first (storecl_settle). */
void storecl_close(storecl_t *c);
/* One request (send_fd >= 0 is passed with it) and its answer: 0 OK (a, and
 * *recv_fd when the answer carries one, else -1), -1 ERR or broken channel
 * (c->cls, c->err; a broken channel closes c->fd and is SW_E_IO). */
int storecl_call(storecl_t *c, const sw_req_t *q, int send_fd, sw_ans_t *a,
		 int *recv_fd) MUGAI_WUR;
/* Pipelined calls: storecl_begin sends a request (after reading an owed
 * answer) and storecl_end reads the answer of the oldest one still in
 * flight (at most STORECL_PENDING_MAX; the store answers a channel's
 * requests in order). Every begin is ended before any other call. A
 * descriptor an answer carries goes to *recv_fd (NULL: it is closed).
 * Errors as storecl_call. */
int storecl_begin(storecl_t *c, const sw_req_t *q, int send_fd) MUGAI_WUR;
int storecl_end(storecl_t *c, sw_ans_t *a, int *recv_fd) MUGAI_WUR;
/* One request whose answer the caller does not wait for (it carries no
 * descriptor either way): read by the next storecl_call, storecl_settle or
 * storecl_close, which logs "WHAT: reason" when it was an error. Only for
 * requests whose failure is a warning (the delivered mark), so that the
 * store's commit overlaps with the session's next message. -1: not sent
 * (c->err; a broken channel as storecl_call). */
int storecl_send(storecl_t *c, const sw_req_t *q, const char *what) MUGAI_WUR;
/* Read the owed answer, if any: 0, or -1 when the channel broke (an error
 * answer is logged and is 0). */
int storecl_settle(storecl_t *c) MUGAI_WUR;

/* The recipients "a,b" of an answer (RELEASE_NEXT, PPAP_NEXT, OUTBOX_NEXT),
 * copied into *copy (the answer's strings live in c->in until the next call)
 * and split in place into *rcpt, *n of them (the caller frees *copy and
 * *rcpt). -1: out of memory. */
int storecl_rcpt_split(const char *list, char **copy, const char ***rcpt, size_t *n) MUGAI_WUR;
/* The len bytes of the sealed memfd an answer came with (len at most max,
 * and the memfd's size) appended to out. */
int storecl_read_memfd(int fd, uint64_t len, size_t max, buf_t *out) MUGAI_WUR;

#endif
