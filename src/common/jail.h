/*
 * jail.h — run LibreOffice in a jail of its own (bubblewrap) to convert one
 * legacy document (.doc .xls .ppt .rtf) to PDF.
 *
 * LibreOffice is far too large for the worker's seccomp filter, so it runs
 * in a bwrap jail: new user, mount, network, IPC, PID and UTS namespaces (no
 * network at all), /usr, /etc/fonts and /etc/libreoffice read-only, a
 * private tmpfs holding only the input and a fresh profile (macros disabled,
 * macro security at its highest, no recovery, links never updated),
 * --die-with-parent, rlimits (legacy_memory_max, legacy_procs_max,
 * legacy_output_max, CPU = legacy_time_max) and a wall clock
 * (legacy_time_max) that kills the whole jail. The input goes in as a
 * memfd copied into the tmpfs; only the PDF comes out, on a pipe. In
 * mugaid at most legacy_concurrent_max jails run at once (jail_slots_init).
 *
 * SECURITY: the PDF is hostile: the caller must flatten it in a sandboxed
 * worker. If the jail cannot be built (bwrap missing, no user namespaces)
 * the conversion is refused: LibreOffice never runs unjailed.
 */
#ifndef MUGAI_JAIL_H
#define MUGAI_JAIL_H

#include "common/buf.h"
#include "common/config.h"

typedef enum {
	JAIL_OK,          /* pdf holds the converted document */
	JAIL_UNAVAILABLE, /* the jail could not be built: refused */
	JAIL_TIMEOUT,     /* legacy_time_max: the jail was killed */
	JAIL_TOO_BIG,     /* legacy_output_max */
	JAIL_FAILED,      /* LibreOffice produced no PDF (encrypted, damaged, unsupported) */
	JAIL_SYSERR,      /* fork/pipe/memfd failed */
	JAIL_BUSY,        /* legacy_concurrent_max: no slot free within legacy_time_max */
} jail_status_t;

/* mugaid: before forking sessions, make legacy_concurrent_max slots (0:
 * one per CPU core) shared by every process forked after it; each
 * jail_convert then holds one slot (an OFD lock, released when its holder
 * exits, even killed). Without it (the CLI) conversions are not counted.
 * -1 on failure (memfd). */
int jail_slots_init(const cfg_t *cfg) MUGAI_WUR;
/* The slots' descriptor (-1: not counted): a process that runs conversions
 * after closing what it inherited keeps it open. */
int jail_slots_fd(void);

/* Convert in[0..len) (extension hint ext: "doc", "xls", "ppt", "rtf" or
 * "" to let LibreOffice detect it) to PDF in *pdf (initialized here, free
 * it with buf_free). why gets a short English detail on failure. */
jail_status_t jail_convert(const cfg_t *cfg, const void *in, size_t len, const char *ext,
			   buf_t *pdf, char *why, size_t whylen);

/* The jail itself: input as the file `input` (an absolute path under
 * /tmp/in/) and the profile in the tmpfs, then /bin/sh -c script; out gets
 * the script's stdout (capped by legacy_output_max). jail_convert() is
 * this with the soffice script; tests use it to probe the jail. */
jail_status_t jail_run(const cfg_t *cfg, const void *in, size_t len, const char *input,
		       const char *script, buf_t *out, char *why, size_t whylen);

/* The registrymodifications.xcu of the throw-away profile. */
const char *jail_profile(void);

#endif
