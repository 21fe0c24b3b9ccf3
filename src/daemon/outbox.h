/*
 * outbox.h — the releaser's second queue: the gateway's own mail to people
 * that the console queued in the store (it sends nothing itself and holds
 * no right to the next hop): the approvers' notice of a release request
 * and the follow-up of a PPAP zip opened in the console.
 *
 * SECURITY: releaser (daemon user, no sandbox); the messages are finished
 * bytes the console built through the writer and the output check; they
 * are only passed on, never parsed here.
 */
#ifndef MUGAI_DAEMON_OUTBOX_H
#define MUGAI_DAEMON_OUTBOX_H

#include "daemon/daemon.h"
#include "daemon/storeclient.h"

/* Deliver every pending outbox row (at most RELEASES_PER_RUN) through
 * next_hop to the row's recipients only, each then marked sent
 * (outbox.delivered {kind, to}, actor mugaid). A row the next hop refuses
 * stays queued for the next run and the others are still tried.
 * 0, or -1 when something failed (logged). */
int outbox_run(const daemon_ctx_t *d, storecl_t *st);

#endif
