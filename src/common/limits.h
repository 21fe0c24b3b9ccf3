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
	/* --- PPAP (a password-protected zip, then its password by mail: mail/ppapscan.c, cdr/zip.c) --- */ \
	X(PPAP_WINDOW, "ppap_window", 60, 0, 7 * 24 * 60, "minutes", \
	  "how long an encrypted zip waits for its password mail (same sender, a shared recipient; with attachments = sanitize); 0: PPAP pairing off, the zip is removed as before") \
	X(PPAP_CANDIDATES, "ppap_candidates_max", 8, 1, 64, "candidates", \
	  "password candidates taken from one password mail and tried on each held zip; each try may read the whole archive (zip_total_max)") \
	X(PPAP_CANDIDATE_LEN, "ppap_candidate_max", 64, 4, 256, "bytes", \
	  "longest password candidate; a longer token is not a password a person types") \
	X(PPAP_HELD, "ppap_held_max", 4, 1, 100, "messages", \
	  "held PPAP originals one password mail is tried on (the newest first); the rest wait for their own") \
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
	X(STORE_BATCH, "store_batch_max", 32, 1, 1024, "requests", \
	  "most session requests mugaid's store process executes in one transaction (one blob flush, one WAL commit)") \
	X(STORE_BATCH_WAIT, "store_batch_wait_ms", 2, 0, 1000, "milliseconds", \
	  "how long the store process waits for more requests of busy sessions before committing a batch that is not full") \
	X(STORE_SEGMENT, "store_segment_max", 64 * MiB, 1 * MiB, 4 * GiB, "bytes", \
	  "size past which originals go to a new blob segment file (state_dir/blobs/seg-NNNNNN)") \
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
	X(ANTIVIRUS_TIMEOUT, "antivirus_timeout", 30, 1, 3600, "seconds", \
	  "connect, send and reply timeout towards clamd per message; expiry is an antivirus error (antivirus_on_error)") \
	X(MILTER_PACKET, "milter_packet_max", 1 * MiB, 128 * KiB, 64 * MiB, "bytes", \
	  "largest milter packet mugaid reads (Postfix sends 64 KiB body chunks and one header per packet, up to its header_size_limit of 100 KiB); larger ends the connection and the MTA applies milter_default_action (tempfail)") \
	X(MILTER_HEADERS, "milter_headers_max", 10000, 100, 1000000, "headers", \
	  "most header lines of one message on the milter front (each is deleted by its own action); more: 552 5.3.4, the sending MTA keeps or bounces it") \
	X(DRAIN_TIME, "drain_time_max", 180, 1, 86400, "seconds", \
	  "on SIGTERM/SIGHUP, how long in-flight messages may finish before sessions are killed (no 250 was given, so nothing is lost)") \
	/* --- console --- */ \
	X(CONSOLE_IDLE, "console_idle_timeout", 900, 1, 86400, "seconds", \
	  "a console session without a request for this long is ended; the next request shows the login page") \
	X(CONSOLE_FAILURES, "console_login_failures_max", 5, 1, 100, "attempts", \
	  "failed console logins in a row before the account is locked for console_lockout_time") \
	X(CONSOLE_LOCKOUT, "console_lockout_time", 900, 1, 604800, "seconds", \
	  "how long a console account stays locked after console_login_failures_max failures") \
	X(CONSOLE_REQUEST, "console_request_max", 16 * KiB, 1 * KiB, 1 * MiB, "bytes", \
	  "largest console request body (a form); larger is refused with 413") \
	X(CONSOLE_CONNECTIONS, "console_connections_max", 64, 1, 10000, "connections", \
	  "console connections open at once; more are refused by the listener") \
	X(CONSOLE_CONN_TIMEOUT, "console_connection_timeout", 30, 1, 3600, "seconds", \
	  "an idle console connection is closed after this long") \
	X(CONSOLE_SESSIONS, "console_sessions_max", 1000, 1, 100000, "sessions", \
	  "console sessions held at once; when full the oldest idle one is ended") \
	X(CONSOLE_LIST, "console_list_max", 500, 10, 100000, "messages", \
	  "most messages one console list page shows (newest first)") \
	X(CONSOLE_SEARCH_PAGE, "console_search_page", 50, 1, 1000, "messages", \
	  "messages on one page of the admin's search in the console (the next page follows a link)") \

/*
 * Compile-time caps: sizes fixed in the binary (array sizes, record fields,
 * nesting guards, scan windows). X(NAME, value, from, reason):
 *   NAME   an integer constant of that name (an enum, usable as an array size);
 *   value  a number or a formula over other caps;
 *   from   the runtime limit (config key of the table above, or a typed config
 *          key) it derives from or that bounds its input upstream, or "none";
 *   reason why this size, and what happens past it.
 * A literal cap anywhere else fails `make check` (scripts/check-caps.sh).
 * A growable buffer with no cap of its own says so: UNCAPPED_BY(LIM_x),
 * allowed only where the table limit x bounds its input upstream.
 */
#define MUGAI_CAPS(X) \
	/* --- common --- */ \
	X(PATH_BUF_MAX, 4096, "none", \
	  "longest file path mugai builds (state_dir, blobs, metrics_file, store); longer is an error, never cut") \
	X(CWD_BUF_MAX, 2048, "none", \
	  "longest working directory prefixed to a relative state_dir; longer is an error") \
	X(IO_CHUNK, 64 * 1024, "none", \
	  "bytes read from a file, pipe or socket at a time") \
	X(SCAN_CHUNK, 4096, "none", \
	  "bytes decoded or compared at a time (charset blocks, base64 probe, blob compare)") \
	X(ERR_TEXT_MAX, 512, "none", \
	  "longest error text kept for a log line or a config message; longer is cut") \
	X(ERR_PATH_TEXT_MAX, 1024, "none", \
	  "longest startup error text, which names a path and its fix; longer is cut") \
	X(LOG_LINE_MAX, 2048, "none", \
	  "longest syslog line; longer is cut (the report and audit keep the full data)") \
	X(JSON_DEPTH_MAX, 32, "none", \
	  "deepest nesting the JSON writer produces (reports are shallow); deeper is a program error") \
	X(CFG_FILE_MAX, 64 * 1024, "none", \
	  "largest file named by a config key (notice_template); larger is a config error") \
	X(WHY_MAX, 512, "none", \
	  "bytes of bubblewrap's stderr kept as the reason a jailed conversion failed") \
	X(JAIL_SCRIPT_MAX, 1024, "none", \
	  "longest shell line that starts LibreOffice inside the jail (fixed paths only)") \
	X(SANDBOX_FD_MAX, 65536, "none", \
	  "highest descriptor number the worker closes before it confines itself") \
	X(BYTE_VALUES, 256, "none", \
	  "entries of a table indexed by one byte") \
	X(IO_SEND_FDS_MAX, 3, "none", \
	  "descriptors sent with one message (a job: the original, the legacy answers, a PPAP password mail)") \
	X(WORKER_SPILL_MAX, 4 * 1024 * 1024, "result_size_max", \
	  "one part of a one-shot worker's output handed over before its result (mugai file sanitize)") \
	/* --- text --- */ \
	X(WR_FIELD_MAX, 200, "none", \
	  "longest untrusted string shown in the notice, in characters; longer is cut with a mark") \
	X(ENCBLOCK_NAME_MAX, 255, "header_value_max", \
	  "longest file name kept for the report (bytes, cut on a UTF-8 boundary)") \
	X(EW_CHARSET_MAX, 64, "header_value_max", \
	  "longest charset name of an RFC 2047 encoded word or RFC 2231 value; longer is not decoded") \
	X(RFC2231_SECTIONS_MAX, 100, "header_value_max", \
	  "most RFC 2231 continuation sections joined into one parameter; more are dropped") \
	X(HTML_SLACK, 4096, "html_expansion_max", \
	  "bytes of HTML text output allowed on top of html_expansion_max x input (tiny inputs)") \
	X(HTML_POOL_RATIO, 96, "worker_memory_max", \
	  "gumbo's memory per input byte before the parser is stopped (its tree is ~10-50 x the input)") \
	X(HTML_POOL_SLACK_MIB, 64, "worker_memory_max", \
	  "MiB of gumbo memory on top of HTML_POOL_RATIO x input (small documents)") \
	X(HTML_ERRORS_MAX, 64, "none", \
	  "gumbo parse errors recorded per document (only their count matters)") \
	X(HTML_ENTITY_LEN, 34, "none", \
	  "longest named character reference looked up (&CounterClockwiseContourIntegral; is 33)") \
	X(HTML_TAG_NAME_MAX, 64, "none", \
	  "bytes of a tag name looked up in gumbo's tag table (no HTML tag is longer)") \
	X(HDR_SCRATCH_SLACK, 256, "header_value_max", \
	  "bytes on top of 2 x input for the scratch buffers of header decoding (capped like the output)") \
	X(ICONV_CHUNK, 1024, "decoded_size_max", \
	  "bytes iconv writes at a time before they are copied to the capped output") \
	/* --- mail --- */ \
	X(RENDER_SLACK, 64 * 1024, "text_size_max", \
	  "bytes on top of 4 x input for rendering one text part (cut to text_size_max afterwards)") \
	X(DISPLAY_NAME_MAX, 256, "header_value_max", \
	  "longest display name kept, in characters; longer ones are cut") \
	X(ADDR_SPEC_MAX, 320, "header_value_max", \
	  "longest address kept in a rebuilt header (RFC 5321: 64 + 1 + 255); longer is not kept") \
	X(MSGID_MAX, 250, "header_value_max", \
	  "longest Message-ID, In-Reply-To or References id kept; longer ones are dropped") \
	X(MAIL_DEFECTS_MAX, 64, "mime_parts_max", \
	  "ambiguous parser findings remembered for attribution; more: the message is quarantined") \
	X(REPORT_ITEMS_MAX, 1000, "mime_parts_max", \
	  "removed or attached parts listed in one report; more are only counted") \
	X(PPAP_CANDS_CAP, 64, "ppap_candidates_max", \
	  "password candidates one scan can hold (the largest ppap_candidates_max)") \
	X(PPAP_CAND_LEN_CAP, 256, "ppap_candidate_max", \
	  "longest password candidate (the largest ppap_candidate_max)") \
	X(PPAP_LINE_MAX, 4096, "text_size_max", \
	  "bytes of one line of a password mail read for candidates; the rest of a longer line is not read") \
	X(WIRE_PPAP_MAX, 1000000, "mime_parts_max", \
	  "PPAP zip counts a worker result may carry (the largest mime_parts_max); more: the record is refused") \
	X(PPAP_KEYLINES_MAX, 256, "text_size_max", \
	  "keyword lines of one text read for password candidates; the rest of the text is not searched (a password mail has a few)") \
	X(PPAP_NAMES_MAX, 16, "mime_parts_max", \
	  "encrypted zips of one message named in the PPAP notice lines; more are only counted") \
	X(REPORT_WARNINGS_MAX, 64, "mime_parts_max", \
	  "parser warnings listed in one report; more are only counted") \
	X(REPORT_TOKENS_MAX, 96, "none", \
	  "the X-Mugai-Sanitized action tokens of one message (seven tokens of at most ten characters)") \
	X(SENDER_FOLD_MAX, 320, "header_value_max", \
	  "bytes of a domain, own domain or display name folded for the look-alike checks (ADDR_SPEC_MAX); longer is cut") \
	X(SENDER_LONG_DOMAIN, 20, "none", \
	  "folded own domain length from which a look-alike may differ by two edits (one below it)") \
	X(WARN_ITEM_CHARS, 60, "none", \
	  "characters of the parser's quoted header bytes kept in one warning") \
	X(ACTIONS_TEXT_MAX, 1024, "none", \
	  "longest list of CDR actions shown for one attachment in the notice") \
	X(ATTACH_NAME_MAX, 1024, "header_value_max", \
	  "longest output file name of a sanitized attachment (bytes); longer is cut") \
	X(WIRE_STR_MAX, 64 * 1024, "none", \
	  "longest display string (From, Subject) in a worker record, for the log and the index; longer is cut on a character boundary") \
	X(NOTICE_REACH, 24, "none", \
	  "bytes from a candidate to the end of the longest notice marker (【無害化済み】)") \
	X(HDR_PARAM_MAX, 4096, "header_value_max", \
	  "a decoded Content-Type or Content-Disposition parameter (a file name), and its cleaned form") \
	X(NAME_CHECK_MAX, 4096, "header_value_max", \
	  "a display name cleaned to see whether it holds an address; longer is judged by its start") \
	X(REFERENCES_MAX, 8192, "header_value_max", \
	  "rebuilt References header; ids past it are dropped") \
	X(REPORT_WARN_MAX, 256, "none", \
	  "longest parser warning in the report; longer is cut") \
	X(WARN_TEXT_MAX, 4096, "none", \
	  "one warning quoting the parser's header bytes, cleaned") \
	X(NOTICE_TEXT_MAX, 64 * 1024, "none", \
	  "the text of a message that replaces a quarantined one") \
	X(WITHHELD_TEXT_MAX, 4096, "none", \
	  "the text of the message that replaces a withheld one") \
	/* --- cdr --- */ \
	X(CDR_ACTIONS_MAX, 256, "zip_entries_max", \
	  "distinct CDR actions listed for one file; more are counted in actions_more") \
	X(CDR_REASON_MAX, 256, "none", \
	  "longest reason a file was blocked (shown translated in the notice); longer is cut") \
	X(CDR_XML_DEPTH_MAX, 256, "xml_part_max", \
	  "deepest XML element nesting walked in an OOXML or ODF part; deeper is not walked") \
	X(CDR_TEXT_CHUNK, 4096, "file_size_max", \
	  "bytes converted at a time when a text file is re-encoded") \
	X(FIELD_INSTR_MAX, 2048, "xml_part_max", \
	  "longest Word field instruction; longer instructions are judged unsafe") \
	X(FIELD_DEPTH_MAX, 64, "xml_part_max", \
	  "deepest nesting of Word fields; deeper: the whole field is unsafe") \
	X(FN_NAME_MAX, 96, "xml_part_max", \
	  "longest spreadsheet function name looked up in the allowlist; longer is unsafe") \
	X(ZIP_NAME_MAX, 1024, "zip_entries_max", \
	  "longest archive or package entry name handled (part paths, nested names); longer is blocked") \
	X(OOXML_REL_NAME_MAX, ZIP_NAME_MAX + 76, "zip_entries_max", \
	  "a relationships part name: a part name plus \"_rels/\" and \".rels\"") \
	X(OOXML_RESOLVE_MAX, 2 * ZIP_NAME_MAX, "zip_entries_max", \
	  "a relationship target joined to its source folder before . and .. are removed") \
	X(OOXML_BAD_SI_MAX, 4096, "xml_part_max", \
	  "bytes of the shared-string flags of one workbook (one per string index); later strings are judged alone") \
	X(RATIO_FLOOR, 64 * 1024, "zip_ratio_max", \
	  "entries smaller than this skip the compression-ratio check (tiny entries compress well)") \
	X(PDF_STORE_MAX, 64 << 20, "worker_memory_max", \
	  "MuPDF's resource store (cached fonts and images) in bytes") \
	X(PDF_NEST_MAX, 64, "pdf_objects_max", \
	  "deepest nesting of PDF objects walked; deeper is blocked") \
	X(SNIFF_TEXT_WINDOW, 1024, "file_size_max", \
	  "bytes examined to tell text from binary") \
	X(SNIFF_SPACE_MAX, 4096, "file_size_max", \
	  "leading white space skipped before a file's first significant byte") \
	X(SNIFF_UTF8_WINDOW, 64 * 1024, "file_size_max", \
	  "bytes examined to decide whether a text file is UTF-8") \
	X(CDR_ACTION_TEXT_MAX, 512, "none", \
	  "one CDR action as recorded (its detail is cut)") \
	X(CDR_ACTION_JSON_MAX, 2 * CDR_ACTION_TEXT_MAX, "none", \
	  "one CDR action with its count, in the report") \
	X(CDR_WORDS_MAX, 2048, "none", \
	  "one CDR action or reason as a Japanese sentence, in the report") \
	X(ZIP_NAME_TEXT_MAX, 4 * ZIP_NAME_MAX, "zip_entries_max", \
	  "an entry name decoded to UTF-8 and normalized") \
	X(OOXML_CT_MAX, 256, "none", \
	  "longest content type of an OOXML part compared with the allowlist; longer is not allowed") \
	X(OOXML_REL_TYPE_MAX, 512, "none", \
	  "longest relationship type mapped from strict OOXML; longer is not allowed") \
	X(PDF_PAGE_ENC_MIB, 2048, "pdf_flatten_bytes_max", \
	  "MiB of one encoded flattened page (the held total is capped by pdf_flatten_bytes_max)") \
	X(CDR_SPILL_AT, 1024 * 1024, "cdr_output_max", \
	  "bytes of a flattened PDF's finished pages held before they are handed over (mugai file sanitize)") \
	/* --- store --- */ \
	X(AUDIT_NAME_MAX, 256, "none", \
	  "longest actor or action name in an audit record; longer is refused") \
	X(AUDIT_LINE_MAX, 320, "none", \
	  "longest witness line written to syslog (ids and hashes only)") \
	X(WITNESS_MAX, 1000000, "none", \
	  "most witness lines read from one log file by audit verify --witness") \
	X(ADDR_MAX, 4096, "smtp_line_length_max", \
	  "longest envelope address or queue id stored in the index; longer is refused") \
	X(STORE_HDR_MAX, 64 * 1024, "header_value_max", \
	  "longest header From or Subject stored in the index; longer is refused") \
	X(STORE_REASON_MAX, 4096, "none", \
	  "longest reason of a release request; longer is refused") \
	X(VERDICT_NAME_MAX, 64, "none", \
	  "longest verdict name stored or accepted in a search filter") \
	X(CONFIG_FILE_MAX, 4 * 1024 * 1024, "none", \
	  "largest configuration file recorded in the audit chain (config.load)") \
	X(BLOB_PATH_MAX, PATH_BUF_MAX, "none", \
	  "longest path of a blob under state_dir/blobs") \
	X(STORE_DET_MAX, 16 * 1024, "audit_details_max", \
	  "details JSON of one audit record the store or the CLI writes itself (ids, counts, short reasons)") \
	X(STORE_FILTER_JSON_MAX, 64 * 1024, "audit_details_max", \
	  "a search filter recorded as JSON in the audit chain") \
	X(STORE_RCPT_LIST_MAX, 64 * 1024 * 1024, "smtp_recipients_max", \
	  "the recipients of one stored message joined into one index field") \
	X(STORE_FRAME_FDS_MAX, 4, "none", \
	  "descriptors one store-process request may carry before it is refused") \
	X(STORECL_PENDING_MAX, 4, "none", \
	  "requests one session has in flight to the store process at once (the lookups before the worker)") \
	X(STORE_ANSWER_MAX, 1024 * 1024, "none", \
	  "one answer of the store process (ids, a release's envelope); larger is refused") \
	X(JSONCHECK_TOP_KEYS_MAX, 256, "none", \
	  "top-level keys of a report or audit details the strict JSON checker compares for duplicates") \
	X(SW_FIXED_MAX, 64 * 1024, "none", \
	  "every fixed field of one store-process record together, with slack") \
	X(SW_TEXT_MAX, WIRE_STR_MAX, "none", \
	  "From or Subject in a store-process record (the worker's WIRE_STR_MAX)") \
	X(SW_ADDR_MAX, ADDR_MAX, "smtp_line_length_max", \
	  "an address, queue id or action in a store-process record") \
	X(SW_ERRMSG_MAX, ERR_TEXT_MAX, "none", \
	  "the error text of a store-process answer") \
	X(SEG_NAME_MAX, 32, "none", \
	  "file name of a blob segment (seg- and a decimal number)") \
	X(STORE_SEND_MS, 1000, "none", \
	  "how long the store process waits to hand an answer to a peer that does not read it; then the peer is dropped (its calls fail: 451)") \
	X(SEG_TRIES_MAX, 64, "none", \
	  "segment numbers a writer tries when others hold theirs; past it the put fails (4xx, retry)") \
	X(SQ_CACHE, 40, "none", \
	  "prepared SQLite statements kept per connection") \
	X(RETENTION_DAYS_MAX, 36500, "none", \
	  "most days a purge may look back (100 years)") \
	/* --- daemon --- */ \
	X(SLOTS_MAX, 2048, "max_sessions", \
	  "session slots of the master: 2 x the largest max_sessions (1024), so old ones drain after a reload") \
	X(STORE_PEERS_MAX, SLOTS_MAX + 2, "max_sessions", \
	  "channels one store process serves: every session slot, the releaser and one spare; more are refused") \
	X(SMTP_PATH_MAX, 256, "smtp_line_length_max", \
	  "longest SMTP path including <> (RFC 5321 4.5.3.1.3); longer: 501") \
	X(SMTP_IDENT_MAX, 64, "smtp_line_length_max", \
	  "longest XFORWARD IDENT (Postfix queue ids are ~20 characters); longer is cut") \
	X(SMTP_REPLY_LINE_MAX, 1024, "smtp_line_length_max", \
	  "longest reply line mugaid sends to its client") \
	X(SESSION_WHY_MAX, 1024, "none", \
	  "longest reason kept for one message (next hop's reply or our failure), for the log and the 451") \
	X(SESSION_LOG_RCPT_MAX, 1024, "smtp_recipients_max", \
	  "bytes of the recipient list in one log line; more recipients are left out of the line") \
	X(TEMPFAIL_LINE_MAX, SESSION_WHY_MAX + 176, "none", \
	  "a 451 reply: its code and words plus the reason") \
	X(IN_MIN, 64 * 1024, "smtp_line_length_max", \
	  "input buffer of a session on top of 2 x smtp_line_length_max") \
	X(SPOOL_CHUNK, 64 * 1024, "message_size_max", \
	  "bytes unstuffed into the spool at a time") \
	X(SESSION_OUT_MAX, 1024 * 1024, "smtp_line_length_max", \
	  "pending replies to the pipelined commands of one input buffer; more ends the session") \
	X(SESSION_DETAILS_MAX, 4096, "audit_details_max", \
	  "details JSON of one session audit record") \
	X(MILTER_CHUNK, 65535, "none", \
	  "bytes of one SMFIR_REPLBODY packet (libmilter's MILTER_CHUNK_SIZE; MTAs accept at least this)") \
	X(MILTER_HDR_BYTES, 4, "none", \
	  "the length word in front of each milter packet") \
	X(MILTER_CLIENT_MAX, 64, "none", \
	  "the MTA client's address kept for the log line (from SMFIC_CONNECT); longer is cut") \
	X(LISTEN_BACKLOG, 128, "max_sessions", \
	  "pending connections queued by the kernel on the listening socket") \
	X(HOST_BUF_MAX, 256, "none", \
	  "longest host name (RFC 1035: 253) of next_hop, listen or our own name; longer is a config error") \
	X(HOP_DIR_MAX, 1024, "none", \
	  "longest maildir path of next_hop = maildir:DIR; longer is a config error") \
	X(CLAMD_REPLY_MAX, 512, "none", \
	  "bytes of one clamd reply; longer is an antivirus error") \
	X(CLAMD_SIG_MAX, 128, "none", \
	  "longest virus signature name kept from a clamd reply (printable ASCII); longer is cut") \
	X(CLAMD_CHUNK, 64 * 1024, "message_size_max", \
	  "bytes of the original sent to clamd in one INSTREAM chunk") \
	X(AV_WHY_MAX, 160, "none", \
	  "longest reason kept for an antivirus error (log, report, audit)") \
	X(DELIVER_REPLY_MAX, 4096, "none", \
	  "bytes of one reply from the next hop; more is a protocol error (451)") \
	X(DELIVER_REPLY_LINES_MAX, 100, "none", \
	  "lines of one multi-line reply from the next hop; more is a protocol error (451)") \
	X(DELIVER_BUF, 8192, "none", \
	  "receive buffer of the next-hop connection") \
	X(DELIVER_IOV_MAX, 64, "none", \
	  "pieces of the rebuilt message (spans between dot-stuffed lines) handed to the kernel in one sendmsg") \
	X(DELIVER_ERR_MAX, 1024, "none", \
	  "longest failure text of one delivery attempt") \
	X(DELIVER_REPLY_TEXT_MAX, 512, "none", \
	  "text of one next-hop reply kept for the log and our own 451") \
	X(DELIVER_CMD_MAX, SMTP_PATH_MAX + 944, "smtp_line_length_max", \
	  "one command to the next hop (MAIL/RCPT with an address and parameters)") \
	X(DELIVER_RCPT_BOXES, 200, "none", \
	  "characters of a recipient read as its maildir box name; longer is cut") \
	X(MAILDIR_PATH_MAX, HOP_DIR_MAX + 1024, "none", \
	  "a maildir path being created (next_hop dir plus a box name)") \
	X(MAILDIR_SUB_MAX, HOP_DIR_MAX + 476, "none", \
	  "next_hop dir plus box and tmp/new/cur") \
	X(MAILDIR_BOX_DIR_MAX, HOP_DIR_MAX + 376, "none", \
	  "next_hop dir plus one box") \
	X(MAILDIR_FILE_MAX, HOP_DIR_MAX + 676, "none", \
	  "one file in a maildir (its unique name)") \
	X(MAILDIR_HDR_MAX, 1200, "none", \
	  "the Delivered-To and Return-Path lines added to a maildir copy") \
	X(MAILDIR_DONE_MAX, HOP_DIR_MAX + 776, "smtp_recipients_max", \
	  "the path of one copy already delivered, kept to remove it on failure") \
	X(MAILDIR_BOX_MAX, 256, "none", \
	  "a maildir box name made from a recipient (DELIVER_RCPT_BOXES characters)") \
	X(BACKOFF_MIN_MS, 100, "none", \
	  "first wait before a crashed session is restarted, in milliseconds (doubled each time)") \
	X(BACKOFF_MAX_MS, 10000, "none", \
	  "longest wait before a crashed session is restarted, in milliseconds") \
	X(METRIC_NAME_MAX, 128, "none", \
	  "longest metric family name in the metrics file (names are ours, never input)") \
	X(CONN_IDLE_MAX, 30, "none", \
	  "seconds an idle next-hop connection is kept for reuse") \
	X(CONSOLE_PAGE_MAX, 4 * 1024 * 1024, "console_list_max", \
	  "one console page or response; a list longer than this is cut (console_list_max rows of at most STORE_HDR_MAX)") \
	X(CONSOLE_TLS_FILE_MAX, 1024 * 1024, "none", \
	  "largest PEM file read for console_tls_cert or console_tls_key; larger is refused") \
	X(CONSOLE_AUDIT_ROWS, 200, "none", \
	  "latest audit records on the console's auditor page (mugai audit export gives all)") \
	X(SEARCH_TEXT_MAX, 256, "none", \
	  "longest part of a sender, recipient, subject or file name searched for") \
	X(SEARCH_PAGE_DIGITS, 6, "none", \
	  "digits of a page number of the admin's search (up to page 999999)") \
	X(CONSOLE_QUERY_MAX, 4 * SEARCH_TEXT_MAX * 3 + 1024, "none", \
	  "the query string of a link to another page of a search (every field percent-encoded)") \
	X(CONSOLE_REPORT_ROWS, 1000, "none", \
	  "distinct counts (verdicts, reason codes, limits, audit actions) kept for one self-inspection report; more are left out and the report says so") \
	X(CONSOLE_REPORT_KEY_MAX, 128, "none", \
	  "longest verdict, reason code or action name kept in a self-inspection report row; longer is cut") \
	X(QACCT_NAME_MAX, 64, "none", \
	  "longest console account name (a-z 0-9 . _ -)") \
	X(QACCT_DEPT_MAX, 256, "none", \
	  "longest department name of a console account") \
	X(QACCT_ADDRS_MAX, 4096, "none", \
	  "the mail addresses of one console account joined by commas") \
	X(QACCT_SECRET_MAX, 256, "none", \
	  "longest stored password hash or TOTP secret (libsodium's crypto_pwhash_STRBYTES is 128)") \
	X(RELEASES_PER_RUN, 100, "none", \
	  "approved releases delivered by one pass of the releaser; the rest wait for the next pass") \
	X(OUTBOX_RCPT_MAX, 8 * 1024, "none", \
	  "the recipients of one outbox mail joined by commas (every approver of a department, or every admin, with an address)") \
	X(CONSOLE_URL_MAX, 200, "none", \
	  "longest console_url (the notice's line 取り出しの依頼 adds /q/ and the id); longer is a configuration error") \
	/* --- cli --- */ \
	X(CLI_NOTE_MAX, 64 * 1024, "audit_details_max", \
	  "details of one audit note (mugai audit note)") \
	X(CLI_SELFTEST_MAX, 1024 * 1024, "none", \
	  "the side file of quarantine selftest-writer (test tool)") \
	X(RCPT_MAX, 1000, "smtp_recipients_max", \
	  "recipients given with -t to mugai mail sanitize") \
	X(CLI_RCPT_MAX, 100, "none", \
	  "recipients given to one quarantine command") \
	X(CLI_ACTOR_MAX, 300, "none", \
	  "longest os:LOGIN[(sudo:NAME)] actor name; longer is refused by the audit (AUDIT_NAME_MAX)") \
	X(SUDO_USER_MAX, 32, "none", \
	  "longest SUDO_USER login name kept in a CLI actor (useradd allows 32); longer is left out") \
	X(CLI_WHY_MAX, 600, "none", \
	  "longest failure text of one file job") \
	X(CLI_REASON_MAX, CLI_WHY_MAX + 300, "none", \
	  "a blocked file's reason with its failure text") \

enum {
#define MUGAI_CAP_ENUM(name, val, from, why) name = (val),
	MUGAI_CAPS(MUGAI_CAP_ENUM)
#undef MUGAI_CAP_ENUM
};

typedef struct cap_info {
	const char *name;
	long long value;
	const char *expr;  /* the value as written */
	const char *from;
	const char *why;
} cap_info_t;

extern const cap_info_t cap_table[];
extern const int cap_count;

/* A growable buffer with no cap of its own: id names the table limit (LIM_x)
 * that bounds what it holds upstream. */
#define UNCAPPED_BY(id) ((size_t)0 * (size_t)(id) + SIZE_MAX / 4)

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
