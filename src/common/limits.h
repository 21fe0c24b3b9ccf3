/*
 * limits.h — every limit of mugai in one table: name, default, unit, reason.
 *
 * Each limit is also a config key of the same name (see config.c), and
 * hitting one is a named verdict recorded in the report's `limits_hit`
 * (after Postfix: "5.6.0 MIME nesting exceeds safety limit").
 * Add new limits in the section of their module, never elsewhere.
 *
 * SECURITY: these values bound the work any process does on hostile input.
 */
#ifndef MUGAI_LIMITS_H
#define MUGAI_LIMITS_H

#include <stdint.h>

#define KiB (1024LL)
#define MiB (1024LL * 1024LL)
#define GiB (1024LL * 1024LL * 1024LL)

/* X(ID, name, default, min, max, unit, reason) */
#define MUGAI_LIMITS(X) \
	/* --- mail --- */ \
	X(MESSAGE_SIZE, "message_size_max", 50 * MiB, 1 * KiB, 2 * GiB, "bytes", \
	  "largest message accepted for sanitizing; a larger one is quarantined whole") \
	X(MIME_DEPTH, "mime_depth_max", 32, 1, 1000, "levels", \
	  "deepest MIME nesting (multipart and message/rfc822); deeper is a parser attack") \
	X(MIME_PARTS, "mime_parts_max", 1000, 1, 1000000, "parts", \
	  "most MIME parts in one message; more is a resource attack") \
	X(HEADER_BYTES, "header_bytes_max", 256 * KiB, 1 * KiB, 64 * MiB, "bytes", \
	  "largest header block of the message or of any part") \
	X(LINE_LENGTH, "line_length_max", 1 * MiB, 998, 2 * GiB, "bytes", \
	  "longest input line; RFC 5322 allows 998, real mail exceeds it, attacks exceed it by far") \
	X(DECODED_SIZE, "decoded_size_max", 100 * MiB, 1 * KiB, 4 * GiB, "bytes", \
	  "total bytes decoded from all parts (base64/QP/charset) of one message") \
	X(TEXT_SIZE, "text_size_max", 16 * MiB, 1 * KiB, 1 * GiB, "bytes", \
	  "largest rebuilt text body; a larger one is truncated with a note") \
	X(HEADER_VALUE, "header_value_max", 64 * KiB, 256, 16 * MiB, "bytes", \
	  "largest decoded value of one kept header") \
	X(HTML_DEPTH, "html_depth_max", 256, 8, 10000, "levels", \
	  "deepest HTML element nesting; deeper is a parser attack") \
	X(HTML_EXPANSION, "html_expansion_max", 8, 1, 1000, "ratio", \
	  "largest ratio of HTML text output to HTML input bytes (entity and structure bombs)") \
	X(CPU_TIME, "cpu_time_max", 30, 1, 3600, "seconds", \
	  "CPU seconds a sanitizer worker may spend on one message or file") \
	X(WALL_TIME, "wall_time_max", 60, 1, 7200, "seconds", \
	  "wall-clock seconds before the parent kills a sanitizer worker") \
	X(RESULT_SIZE, "result_size_max", 512 * MiB, 1 * MiB, 8 * GiB, "bytes", \
	  "largest result a sanitizer worker may return (rebuilt message or file, plus report), for the CLI and mugaid alike; must hold cdr_output_max base64-encoded plus text_size_max and report_size_max; larger: result-too-big") \
	X(WORKER_MEMORY, "worker_memory_max", 2 * GiB, 64 * MiB, 64 * GiB, "bytes", \
	  "address space of a sanitizer worker (RLIMIT_AS)") \
	/* --- cdr --- */ \
	X(FILE_SIZE, "file_size_max", 100 * MiB, 1 * KiB, 2 * GiB, "bytes", \
	  "largest file accepted for CDR; a larger one is blocked") \
	X(CDR_OUTPUT, "cdr_output_max", 256 * MiB, 1 * KiB, 4 * GiB, "bytes", \
	  "largest sanitized output of one file; a larger one is blocked") \
	X(CDR_TIME, "cdr_time_max", 60, 1, 7200, "seconds", \
	  "wall-clock seconds the engine spends on one file (checked between pages and entries)") \
	X(PDF_PAGES, "pdf_pages_max", 500, 1, 100000, "pages", \
	  "most pages in one PDF; more is blocked (flatten time grows with pages)") \
	X(PDF_PAGE_PIXELS, "pdf_page_pixels_max", 24 * 1000 * 1000, 1000 * 1000, 1000 * 1000 * 1000, "pixels", \
	  "largest rendered page when flattening (3 bytes a pixel: 72 MB); a larger page is rendered at a lower dpi") \
	X(PDF_FLATTEN_BYTES, "pdf_flatten_bytes_max", 64 * MiB, 1 * MiB, 4 * GiB, "bytes", \
	  "encoded page images held while flattening one PDF; more is blocked (keeps a worker under 256 MB)") \
	X(PDF_OBJECTS, "pdf_objects_max", 1000000, 100, 100000000, "objects", \
	  "most objects in one PDF (xref length); more is a resource attack") \
	X(IMAGE_PIXELS, "image_pixels_max", 100 * 1000 * 1000, 1000, 2000 * 1000 * 1000, "pixels", \
	  "largest declared image (width x height), checked before any allocation") \
	X(ZIP_DEPTH, "zip_depth_max", 3, 1, 16, "levels", \
	  "deepest archive nesting (zip in zip); deeper is a recursive bomb") \
	X(ZIP_ENTRIES, "zip_entries_max", 1000, 1, 1000000, "entries", \
	  "most entries in one archive, OOXML or ODF package") \
	X(ZIP_TOTAL, "zip_total_max", 1 * GiB, 1 * KiB, 64 * GiB, "bytes", \
	  "total uncompressed bytes of all entries of one file, nested archives included") \
	X(ZIP_RATIO, "zip_ratio_max", 100, 2, 100000, "ratio", \
	  "largest compression ratio of one entry (uncompressed / compressed); more is a bomb") \
	X(XML_PART, "xml_part_max", 64 * MiB, 1 * KiB, 1 * GiB, "bytes", \
	  "largest single XML part of an OOXML or ODF package") \
	/* --- legacy (jailed LibreOffice conversion, common/jail.c) --- */ \
	X(LEGACY_TIME, "legacy_time_max", 60, 1, 3600, "seconds", \
	  "wall-clock seconds of one jailed LibreOffice conversion; then the whole jail is killed") \
	X(LEGACY_MEMORY, "legacy_memory_max", 1 * GiB, 256 * MiB, 16 * GiB, "bytes", \
	  "data memory of the jailed LibreOffice (RLIMIT_DATA on every process in the jail)") \
	X(LEGACY_PROCS, "legacy_procs_max", 64, 8, 4096, "processes", \
	  "processes and threads the jailed LibreOffice may create (RLIMIT_NPROC)") \
	X(LEGACY_OUTPUT, "legacy_output_max", 256 * MiB, 1 * MiB, 4 * GiB, "bytes", \
	  "largest file the jailed LibreOffice may write (RLIMIT_FSIZE), so the largest intermediate PDF") \
	X(LEGACY_CONCURRENT, "legacy_concurrent_max", 0, 0, 256, "conversions", \
	  "conversions running at once in mugaid; 0: one per CPU core (the CLI converts one file at a time); one that waits legacy_time_max for a slot is blocked") \
	X(LEGACY_MESSAGE, "legacy_message_max", 8, 1, 1000, "conversions", \
	  "legacy attachments converted for one message (each may take legacy_time_max); the rest are blocked") \
	/* --- store --- */ \
	X(REPORT_SIZE, "report_size_max", 16 * MiB, 1 * KiB, 1 * GiB, "bytes", \
	  "largest report JSON stored with an original in the quarantine index") \
	X(AUDIT_DETAILS, "audit_details_max", 64 * KiB, 1 * KiB, 16 * MiB, "bytes", \
	  "largest details JSON of one audit record; keeps the chain small enough to verify") \
	X(STORE_BUSY, "store_busy_timeout", 30, 1, 3600, "seconds", \
	  "how long a store writer waits for the database lock before failing (4xx, retry)") \
	/* --- daemon --- */ \
	X(SMTP_LINE_LENGTH, "smtp_line_length_max", 2048, 512, 1 * MiB, "bytes", \
	  "longest SMTP command line (RFC 5321 4.5.3.1.4: 512, plus ESMTP parameters); longer: 500 5.5.2") \
	X(SMTP_RECIPIENTS, "smtp_recipients_max", 1000, 1, 100000, "recipients", \
	  "most RCPT TO per transaction; more get 452 4.5.3 and Postfix sends them in another transaction") \
	X(SMTP_ERRORS, "smtp_errors_max", 20, 1, 10000, "errors", \
	  "bad commands in one session before mugaid answers 421 and closes") \
	X(SMTP_TIMEOUT, "smtp_timeout", 300, 1, 3600, "seconds", \
	  "how long a session waits for the client's next command or DATA bytes") \
	X(NEXT_HOP_TIMEOUT, "next_hop_timeout", 120, 1, 3600, "seconds", \
	  "connect/reply timeout towards the next hop; expiry answers 451 4.4.2 so Postfix retries") \
	X(DRAIN_TIME, "drain_time_max", 180, 1, 86400, "seconds", \
	  "on SIGTERM/SIGHUP, how long in-flight messages may finish before sessions are killed (no 250 was given, so nothing is lost)") \

typedef enum {
#define MUGAI_LIMIT_ENUM(id, name, def, min, max, unit, why) LIM_##id,
	MUGAI_LIMITS(MUGAI_LIMIT_ENUM)
#undef MUGAI_LIMIT_ENUM
	LIM__COUNT
} limit_id_t;

typedef struct limits {
	long long v[LIM__COUNT];
} limits_t;

typedef struct limit_info {
	const char *name;
	long long def, min, max;
	const char *unit;
	const char *why;
} limit_info_t;

extern const limit_info_t limit_table[LIM__COUNT];

/* Fill with the defaults. */
void limits_default(limits_t *l);
/* Index by name, or -1. */
int limit_find(const char *name);
static inline long long lim(const limits_t *l, limit_id_t id) { return l->v[id]; }

#endif
