/*
 * cmd_ppap.h — the typed-password pairing of a held PPAP zip, shared by
 * `mugai quarantine ppap` (cmd_ppap.c) and the console's PPAP form
 * (console/ppap_view.c): the held original is rebuilt in a one-shot
 * sandboxed worker (common/worker.h) with the one candidate, as a password
 * mail would open it in mugaid.
 *
 * SECURITY: the candidate lives in this process and the worker only; the
 * caller wipes it (ppap_cands_free) and never writes, logs or audits it.
 */
#ifndef MUGAI_CLI_CMD_PPAP_H
#define MUGAI_CLI_CMD_PPAP_H

#include "common/buf.h"
#include "common/config.h"
#include "mail/ppapscan.h"
#include "mail/wire.h"

/* Rebuild the held original `id` (bytes orig) trying the candidates c:
 * NULL with *res (the follow-up message, res->ppap_opened zips opened),
 * or why the worker failed ("timeout", "bad result", ...). mail_init()
 * must have run in this process. */
const char *cmd_ppap_pair(const cfg_t *cfg, const char *id, const buf_t *orig, ppap_cands_t *c,
			  mail_result_t *res);

#endif
