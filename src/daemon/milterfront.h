/*
 * milterfront.h — the milter front of a session process (milterfront.c):
 * serve one connection of the MTA's milter client on milter_listen.
 *
 * SECURITY: session process, under its seccomp policy; see milterfront.c.
 */
#ifndef MUGAI_DAEMON_MILTERFRONT_H
#define MUGAI_DAEMON_MILTERFRONT_H

#include "daemon/msgcore.h"

/* Serve fd (peer: the MTA's address, for the log) until it closes, a
 * protocol error, smtp_timeout of silence, or shutdown between messages. */
void milterfront_serve(msgproc_t *p, int fd, const char *peer);

#endif
