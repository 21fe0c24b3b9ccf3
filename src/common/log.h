/*
 * log.h — logging to stderr or syslog, and fatal() for program setup.
 *
 * SECURITY: messages may carry decoded header text; callers pass it through
 * log_safe() so that control characters never reach a terminal or syslog.
 */
#ifndef MUGAI_LOG_H
#define MUGAI_LOG_H

#include <stdbool.h>
#include "defs.h"

typedef enum { LOG_LV_ERR, LOG_LV_WARN, LOG_LV_INFO, LOG_LV_DEBUG } log_level_t;

void log_init(const char *ident, bool use_syslog, log_level_t level);
void log_msg(log_level_t lv, const char *fmt, ...) MUGAI_PRINTF(2, 3);
#define log_err(...) log_msg(LOG_LV_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LV_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LV_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LV_DEBUG, __VA_ARGS__)
/* Program setup only: log and exit with status. */
void fatal(int status, const char *fmt, ...) MUGAI_PRINTF(2, 3) __attribute__((noreturn));

#endif
