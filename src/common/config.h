/*
 * config.h — the typed config table: every key with type, default, range and
 * help. Limits (limits.h) are config keys too, under their own names.
 *
 * File syntax (like Postfix main.cf, minus $expansion):
 *     # comment
 *     key = value
 * Unknown keys, bad values and out-of-range numbers are errors with
 * "file:line: reason"; `mugai config check` (and `mugaid -n`) report them.
 * Add new keys in the section of their module.
 *
 * SECURITY: read by the master/CLI during setup only, before any hostile
 * input is touched. Workers get the parsed copy by fork().
 */
#ifndef MUGAI_CONFIG_H
#define MUGAI_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include "defs.h"
#include "limits.h"

typedef enum { CFG_INT, CFG_BOOL, CFG_ENUM, CFG_STR, CFG_LIST } cfg_type_t;

/* X(ID, name, type, default, min, max, choices, help)
 * choices: "a|b|c" for CFG_ENUM, NULL otherwise. CFG_LIST is comma-separated. */
#define MUGAI_CONFIG_KEYS(X) \
	/* --- mail --- */ \
	X(LINK_STYLE, "link_style", CFG_ENUM, "defang", 0, 0, "defang|plain|remove", \
	  "how links appear in rebuilt text: defang (hxxps://example[.]com), plain (http/https/mailto as text, the rest defanged), remove") \
	X(NOTICE_LANG, "notice_lang", CFG_ENUM, "ja", 0, 0, "ja|en", \
	  "language of the notice block at the top of each rebuilt message") \
	X(NOTICE_TEMPLATE, "notice_template", CFG_STR, "", 0, 0, NULL, \
	  "file holding a custom notice template (placeholders {id} {verdict} {count} {links} {items} {reasons} {attached} {name_warning} {whose} {ppap} {release} {console}); empty: built-in") \
	X(ATTACHMENTS, "attachments", CFG_ENUM, "remove", 0, 0, "remove|sanitize", \
	  "attachments: remove (listed in the notice) or sanitize (file CDR per type, see the *_policy keys; blocked files are listed)") \
	X(HEADER_KEEP, "header_keep", CFG_LIST, \
	  "From,To,Cc,Date,Subject,Message-ID,In-Reply-To,References,Reply-To", 0, 0, NULL, \
	  "headers rebuilt into the output (from this set only); every other header is dropped") \
	X(NOTICE_FROM, "notice_from", CFG_STR, "postmaster@localhost", 0, 0, NULL, \
	  "From address of a notice that replaces a message whose own headers could not be read") \
	X(ON_TRUNCATED_MULTIPART, "on_truncated_multipart", CFG_ENUM, "sanitize", 0, 0, \
	  "quarantine|sanitize", \
	  "a multipart whose end boundary is missing (common in bounces): sanitize what is there, the last part running to the end, with a note in the notice; or quarantine") \
	X(BODY_PREFER, "body_prefer", CFG_ENUM, "plain", 0, 0, "plain|html", \
	  "which alternative of multipart/alternative becomes the text: plain (when it has content) or html") \
	/* --- cdr --- */ \
	X(PDF_MODE, "pdf_mode", CFG_ENUM, "flatten", 0, 0, "flatten|rebuild", \
	  "PDF CDR: flatten (render every page to an image: strongest) or rebuild (rewrite without active content)") \
	X(PDF_DPI, "pdf_dpi", CFG_INT, "150", 36, 600, NULL, \
	  "resolution of flattened PDF pages, in dots per inch") \
	X(PDF_KEEP_URI, "pdf_keep_uri", CFG_BOOL, "no", 0, 0, NULL, \
	  "PDF rebuild: keep URI link actions (no: links are removed)") \
	X(IMAGE_JPEG_QUALITY, "image_jpeg_quality", CFG_INT, "85", 30, 100, NULL, \
	  "quality of re-encoded JPEG images") \
	X(TEXT_OUTPUT_CHARSET, "text_output_charset", CFG_ENUM, "utf-8", 0, 0, "utf-8|cp932", \
	  "charset of sanitized text and CSV files") \
	X(PDF_POLICY, "pdf_policy", CFG_ENUM, "sanitize", 0, 0, "sanitize|remove", \
	  "PDF files: sanitize (CDR) or remove (always blocked)") \
	X(IMAGE_POLICY, "image_policy", CFG_ENUM, "sanitize", 0, 0, "sanitize|remove", \
	  "PNG, JPEG, GIF, BMP and TIFF images: sanitize (re-encode) or remove") \
	X(OFFICE_POLICY, "office_policy", CFG_ENUM, "sanitize", 0, 0, "sanitize|remove", \
	  "OOXML documents (docx/xlsx/pptx and macro-enabled types): sanitize or remove") \
	X(ODF_POLICY, "odf_policy", CFG_ENUM, "sanitize", 0, 0, "sanitize|remove", \
	  "ODF documents (odt/ods/odp): sanitize or remove") \
	X(TEXT_POLICY, "text_policy", CFG_ENUM, "sanitize", 0, 0, "sanitize|remove", \
	  "plain text and CSV files: sanitize (decode, clean) or remove") \
	X(ZIP_POLICY, "zip_policy", CFG_ENUM, "sanitize", 0, 0, "sanitize|remove", \
	  "zip archives: sanitize (every entry, recursively) or remove") \
	X(LEGACY_POLICY, "legacy_policy", CFG_ENUM, "convert", 0, 0, "convert|block", \
	  "legacy .doc/.xls/.ppt and RTF: convert (jailed LibreOffice to PDF, then flatten to page images) or block") \
	X(LEGACY_BWRAP, "legacy_bwrap", CFG_STR, "/usr/bin/bwrap", 0, 0, NULL, \
	  "bubblewrap program that builds the conversion jail; when it is missing or fails, legacy documents are blocked") \
	X(LEGACY_SOFFICE, "legacy_soffice", CFG_STR, "/usr/lib/libreoffice/program/soffice", 0, 0, NULL, \
	  "LibreOffice program run inside the jail (a path under /usr, which the jail sees read-only)") \
	/* --- store --- */ \
	X(STATE_DIR, "state_dir", CFG_STR, "./var", 0, 0, NULL, \
	  "directory of the quarantine store: index database, blobs/ (originals), mode 0700") \
	X(STORE_BACKEND, "store_backend", CFG_ENUM, "sqlite", 0, 0, "sqlite", \
	  "quarantine index and audit backend: sqlite (embedded); postgresql comes later") \
	X(RETENTION_DAYS, "retention_days", CFG_INT, "90", 1, 36500, NULL, \
	  "days an original is kept; purge removes older ones and refuses younger ones") \
	X(UNDELIVERED_DAYS, "undelivered_days", CFG_INT, "5", 1, 36500, NULL, \
	  "days after which purge removes an original whose delivery by mugaid never completed (Postfix gave up: its maximal_queue_lifetime is 5d)") \
	X(RELEASE_DISTINCT_APPROVER, "release_distinct_approver", CFG_BOOL, "yes", 0, 0, NULL, \
	  "a release must be approved by someone other than its requester") \
	X(AUDIT_WITNESS_EVERY, "audit_witness_every", CFG_INT, "100", 0, 100000000, NULL, \
	  "send the audit head (seq, hash) to syslog (ident mugai-audit) every N records; 0: never") \
	X(AUDIT_WITNESS_MINUTES, "audit_witness_minutes", CFG_INT, "60", 0, 525600, NULL, \
	  "also witness the head when this many minutes passed since the last witness; 0: never") \
	X(AUDIT_WITNESS_FILE, "audit_witness_file", CFG_STR, "", 0, 0, NULL, \
	  "also append each witness line to this file (e.g. on write-once or remote storage); empty: syslog only") \
	/* --- daemon --- */ \
	X(LISTEN, "listen", CFG_STR, "127.0.0.1:10025", 0, 0, NULL, \
	  "mugaid: address:port the after-queue content filter listens on (loopback; Postfix content_filter points here)") \
	X(MILTER_LISTEN, "milter_listen", CFG_STR, "", 0, 0, NULL, \
	  "mugaid: address:port of the milter front (loopback; Postfix smtpd_milters = inet:ADDRESS:PORT); empty: off") \
	X(NEXT_HOP, "next_hop", CFG_STR, "maildir:./var/maildir", 0, 0, NULL, \
	  "mugaid: where rebuilt messages go: smtp:HOST:PORT (Postfix re-injection, e.g. smtp:127.0.0.1:10026), lmtp:HOST:PORT, or maildir:DIR (one Maildir per recipient)") \
	X(MAX_SESSIONS, "max_sessions", CFG_INT, "8", 1, 1024, NULL, \
	  "mugaid: SMTP session processes, each with one sandboxed worker; match Postfix's maxproc for the mugai transport") \
	X(SESSION_MAX_USE, "session_max_use", CFG_INT, "100", 1, 1000000, NULL, \
	  "mugaid: connections a session process serves before it exits and the master starts a fresh one") \
	X(WORKER_MAX_USE, "worker_max_use", CFG_INT, "100", 1, 1000000, NULL, \
	  "mugaid: messages a sanitizer worker handles before it is recycled (Postfix max_use)") \
	X(DAEMON_USER, "user", CFG_STR, "mugai", 0, 0, NULL, \
	  "mugaid: account the master drops to when started as root; when it does not exist mugaid refuses to start (exit 78); empty: keep the invoking user (make run, tests)") \
	X(MYHOSTNAME, "myhostname", CFG_STR, "", 0, 0, NULL, \
	  "mugaid: host name in the SMTP greeting and EHLO to the next hop; empty: the system host name") \
	X(LOG_TARGET, "log", CFG_ENUM, "stderr", 0, 0, "stderr|syslog", \
	  "mugaid: where the one-line-per-message log and errors go (syslog facility mail)") \
	X(METRICS_FILE, "metrics_file", CFG_STR, "{state_dir}/mugaid.prom", 0, 0, NULL, \
	  "mugaid: Prometheus text-format counters, rewritten every second (node_exporter textfile collector); a leading {state_dir} is the absolute state_dir; empty: off") \
	X(PID_FILE, "pid_file", CFG_STR, "", 0, 0, NULL, \
	  "mugaid: file the master writes its pid to; empty: none") \
	X(RELEASE_INTERVAL, "release_interval", CFG_INT, "10", 0, 3600, NULL, \
	  "mugaid: seconds between runs that deliver originals approved with 'quarantine approve --queue'; 0: off") \
	/* --- antivirus and sender warnings (issue #11) --- */ \
	X(ANTIVIRUS, "antivirus", CFG_STR, "none", 0, 0, NULL, \
	  "mugaid: a second opinion before sanitizing: none, clamd:/run/clamav/clamd.ctl (clamd's unix socket) or clamd:IP:PORT (numeric address); the session streams the original with zINSTREAM; a detection quarantines it (reason virus: SIGNATURE)") \
	X(ANTIVIRUS_ON_ERROR, "antivirus_on_error", CFG_ENUM, "tempfail", 0, 0, "tempfail|continue", \
	  "mugaid: clamd unreachable, too slow (antivirus_timeout) or in error: tempfail answers 451 so the upstream retries (fail closed); continue sanitizes anyway and records antivirus_error in the report and the audit record") \
	X(OWN_DOMAINS, "own_domains", CFG_LIST, "", 0, 0, NULL, \
	  "the municipality's own mail domains (comma-separated): outside mail whose From imitates one (look-alike domain, or an own domain in the display name) gets a sender warning; empty: no look-alike check") \
	X(AUTHSERV_ID, "authserv_id", CFG_STR, "", 0, 0, NULL, \
	  "authserv-id of the Internet-side MTA's Authentication-Results (OpenDKIM/OpenDMARC/SPF); only those headers are read for a dmarc/dkim/spf fail warning; empty: every Authentication-Results is ignored") \
	X(FIRST_CONTACT_DAYS, "first_contact_days", CFG_INT, "90", 0, 36500, NULL, \
	  "mugaid: a sender address not seen in the store within this many days gets the first-contact warning; 0: off") \
	/* --- console --- */ \
	X(CONSOLE_LISTEN, "console_listen", CFG_STR, "127.0.0.1:8025", 0, 0, NULL, \
	  "mugai console: IPv4 address:port of the web console; without console_tls_cert it speaks plain HTTP and must be a loopback address") \
	X(CONSOLE_TLS_CERT, "console_tls_cert", CFG_STR, "", 0, 0, NULL, \
	  "mugai console: PEM certificate (with its chain) for HTTPS; with console_tls_key the console speaks only HTTPS, may listen on any address and marks its cookies Secure; empty: plain HTTP on loopback") \
	X(CONSOLE_TLS_KEY, "console_tls_key", CFG_STR, "", 0, 0, NULL, \
	  "mugai console: PEM private key of console_tls_cert (keep it readable by the console's user only)") \
	X(CONSOLE_URL, "console_url", CFG_STR, "", 0, 0, NULL, \
	  "address of the web console as the clerks reach it, http(s)://host[:port][/path] (no query, no fragment; a trailing / is dropped): every notice then says 取り出しの依頼: URL/q/ID（受付番号 xxxx-xxxx）, the one link the output check lets through; empty: no such line") \

typedef enum {
#define MUGAI_CFG_ENUM(id, name, type, def, min, max, choices, help) CFG_##id,
	MUGAI_CONFIG_KEYS(MUGAI_CFG_ENUM)
#undef MUGAI_CFG_ENUM
	CFG__COUNT
} cfg_id_t;

typedef struct cfg_key {
	const char *name;
	cfg_type_t type;
	const char *def;
	long long min, max;
	const char *choices;
	const char *help;
} cfg_key_t;

extern const cfg_key_t cfg_table[CFG__COUNT];

typedef struct cfg {
	long long i[CFG__COUNT];  /* CFG_INT, CFG_BOOL, CFG_ENUM (choice index) */
	char *s[CFG__COUNT];      /* every key's value as text */
	limits_t lim;
	char *path;               /* file loaded, or NULL for embedded defaults */
	char *notice_text;        /* contents of the notice_template file, or NULL */
} cfg_t;

int cfg_init(cfg_t *c) MUGAI_WUR;
void cfg_free(cfg_t *c);
/* Set one key (or limit) from text; on error writes a reason into err. */
int cfg_set(cfg_t *c, const char *key, const char *val, char *err, size_t errlen) MUGAI_WUR;
/* Load a file over the current values; err gets "path:line: reason". */
/* Limits that must agree with each other (wall_time_max >= cpu_time_max,
 * ...); cfg_load calls it. 0, or -1 with err naming both keys. */
int cfg_check_relations(const cfg_t *c, char *err, size_t errlen) MUGAI_WUR;
int cfg_load(cfg_t *c, const char *path, char *err, size_t errlen) MUGAI_WUR;
/* Print every key with its current value (text) or the defaults table (markdown). */
void cfg_dump(const cfg_t *c, FILE *out, bool markdown);
/* Print the compile-time caps (limits.h MUGAI_CAPS): "NAME = value (from)"
 * lines, or the README's markdown table. */
void cfg_dump_caps(FILE *out, bool markdown);

static inline const char *cfg_str(const cfg_t *c, cfg_id_t id) { return c->s[id]; }
static inline long long cfg_int(const cfg_t *c, cfg_id_t id) { return c->i[id]; }
bool cfg_is(const cfg_t *c, cfg_id_t id, const char *choice);
/* A shallow copy of c whose enum key id is set to choice (a string that
 * outlives the copy, e.g. a literal): it shares c's strings, is never
 * freed, and lives no longer than c. -1 when choice is not one of id's. */
int cfg_copy_enum(const cfg_t *c, cfg_id_t id, const char *choice, cfg_t *out) MUGAI_WUR;
/* console_url's syntax: http(s)://host[:port][/path] of [A-Za-z0-9._~-]
 * segments, at most CONSOLE_URL_MAX bytes, no trailing '/' (cfg_set drops
 * one); "" (off) is valid. */
bool cfg_console_url_ok(const char *url);
/* Is name (case-insensitive) in the comma-separated list key? */
bool cfg_list_has(const cfg_t *c, cfg_id_t id, const char *name);
/* Parse "10", "10k", "50M", "2G" into *v. */
int cfg_parse_number(const char *s, long long *v) MUGAI_WUR;

#endif
