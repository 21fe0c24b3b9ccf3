/*
 * metrics.h — mugaid's counters: one shared anonymous mapping created by
 * the master before it forks, incremented atomically by session processes,
 * written by the master as a Prometheus text-format file (text exposition
 * format 0.0.4; node_exporter's textfile collector reads it).
 *
 * SECURITY: the mapping holds only integers; sessions can change counters
 * but nothing else. The file is written by the master (tmp + rename).
 */
#ifndef MUGAI_DAEMON_METRICS_H
#define MUGAI_DAEMON_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include "common/defs.h"

/* X(ID, metric name with labels, help) */
#define MUGAID_METRICS(X) \
	X(CONNECTIONS, "mugaid_connections_total", "SMTP connections accepted") \
	X(MILTER_CONNECTIONS, "mugaid_milter_connections_total", "milter connections accepted (milter_listen)") \
	X(MSG_IN, "mugaid_messages_received_total", "messages whose DATA was received completely") \
	X(MSG_DELIVERED, "mugaid_messages_delivered_total", "messages answered 250 (stored and delivered)") \
	X(V_CLEAN, "mugaid_verdicts_total{verdict=\"clean\"}", "verdicts of delivered messages") \
	X(V_SANITIZED, "mugaid_verdicts_total{verdict=\"sanitized\"}", "") \
	X(V_QUARANTINED, "mugaid_verdicts_total{verdict=\"quarantined\"}", "") \
	X(TF_WORKER, "mugaid_tempfail_total{reason=\"worker\"}", "messages answered 451 (Postfix retries)") \
	X(TF_STORE, "mugaid_tempfail_total{reason=\"store\"}", "") \
	X(TF_NEXT_HOP, "mugaid_tempfail_total{reason=\"next_hop\"}", "") \
	X(TF_SPOOL, "mugaid_tempfail_total{reason=\"spool\"}", "") \
	X(TF_ANTIVIRUS, "mugaid_tempfail_total{reason=\"antivirus\"}", "") \
	X(REJ_SIZE, "mugaid_rejected_total{reason=\"size\"}", "messages refused with 5xx") \
	X(REJ_BARE, "mugaid_rejected_total{reason=\"bare_newline\"}", "") \
	X(W_CRASH, "mugaid_worker_failures_total{kind=\"crash\"}", "sanitizer worker failures (the message became a notice)") \
	X(W_TIMEOUT, "mugaid_worker_failures_total{kind=\"timeout\"}", "") \
	X(W_TOO_BIG, "mugaid_worker_failures_total{kind=\"result_too_big\"}", "") \
	X(AV_VIRUS, "mugaid_antivirus_total{result=\"virus\"}", "antivirus (clamd) answers: virus found, or an error (unreachable, timeout, clamd ERROR)") \
	X(AV_ERROR, "mugaid_antivirus_total{result=\"error\"}", "") \
	X(W_STARTED, "mugaid_workers_started_total", "sanitizer workers started") \
	X(S_RESTART, "mugaid_session_restarts_total", "session processes restarted after an abnormal exit") \
	X(BYTES_IN, "mugaid_received_bytes_total", "message bytes received") \
	X(MS_SUM, "mugaid_message_milliseconds_sum", "time from end of DATA to the reply, delivered messages") \
	X(MS_COUNT, "mugaid_message_milliseconds_count", "")
/* Help texts are those of each family's first row (a summary's: its _sum). */

typedef enum {
#define MUGAID_METRIC_ENUM(id, name, help) M_##id,
	MUGAID_METRICS(MUGAID_METRIC_ENUM)
#undef MUGAID_METRIC_ENUM
	M__COUNT
} metric_id_t;

/* Map the shared counters (master, before forking). */
int metrics_init(void) MUGAI_WUR;
void metrics_add(metric_id_t id, uint64_t n);
uint64_t metrics_get(metric_id_t id);
/* Is path a name node_exporter's textfile collector reads (NAME.prom, not
 * hidden)? "" (no metrics file) is fine too. */
bool metrics_path_ok(const char *path);
/* Write every counter to path (tmp + rename). No-op for "" or NULL. */
int metrics_write(const char *path) MUGAI_WUR;

#endif
