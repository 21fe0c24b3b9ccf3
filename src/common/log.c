/*
 * log.c — stderr/syslog logger (see log.h).
 *
 * SECURITY: control characters in a message are replaced by '?'.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include "limits.h"

static const char *log_ident = "mugai";
static bool log_syslog;
static log_level_t log_level = LOG_LV_INFO;

void log_init(const char *ident, bool use_syslog, log_level_t level)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_level = level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

static void MUGAI_PRINTF(2, 0) vlog(log_level_t lv, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[LOG_LINE_MAX];

	if (lv > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (log_syslog)
		syslog(prio[lv], "%s", msg);
	else
		fprintf(stderr, "%s: %s\n", log_ident, msg);
}

void log_msg(log_level_t lv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lv, fmt, ap);
	va_end(ap);
}

void fatal(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LV_ERR, fmt, ap);
	va_end(ap);
	exit(status);
}
