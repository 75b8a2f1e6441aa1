/*
 * log.c -- log output to stderr, syslog or a file, in two line styles.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "mxf.h"

enum log_kind { LOG_KIND_STDERR, LOG_KIND_SYSLOG, LOG_KIND_FILE };

static enum log_kind log_kind = LOG_KIND_STDERR;
static enum log_style log_style = LOG_STYLE_NATIVE;
static FILE *log_file;
static int log_verbosity = 1;
static int log_info_always;

static const char *const log_level_names[] = {
	[LOG_LEVEL_ERR] = "error",
	[LOG_LEVEL_WARN] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

/* Python logging's level names, as DNS_Failover's log lines carry them. */
static const char *const log_level_names_py[] = {
	[LOG_LEVEL_ERR] = "ERROR",
	[LOG_LEVEL_WARN] = "WARNING",
	[LOG_LEVEL_INFO] = "INFO",
	[LOG_LEVEL_DEBUG] = "DEBUG",
};

static const int log_syslog_prio[] = {
	[LOG_LEVEL_ERR] = LOG_ERR,
	[LOG_LEVEL_WARN] = LOG_WARNING,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

int
log_open(const char *target, enum log_style style)
{
	log_close();
	log_style = style;
	if (target == NULL || strcmp(target, "stderr") == 0) {
		log_kind = LOG_KIND_STDERR;
		return 0;
	}
	if (strcmp(target, "syslog") == 0) {
		openlog("mxfailover", LOG_PID, LOG_DAEMON);
		log_kind = LOG_KIND_SYSLOG;
		return 0;
	}
	log_file = fopen(target, "ae");
	if (log_file == NULL) {
		log_kind = LOG_KIND_STDERR;
		return MXF_EIO;
	}
	setvbuf(log_file, NULL, _IOLBF, 0);
	log_kind = LOG_KIND_FILE;
	return 0;
}

void
log_close(void)
{
	if (log_kind == LOG_KIND_FILE && log_file != NULL)
		fclose(log_file);
	if (log_kind == LOG_KIND_SYSLOG)
		closelog();
	log_file = NULL;
	log_kind = LOG_KIND_STDERR;
}

void
log_set_verbosity(int verbosity)
{
	log_verbosity = verbosity;
}

void
log_set_info_always(int on)
{
	log_info_always = on;
}

static int
log_wanted(enum log_level level)
{
	if (level == LOG_LEVEL_ERR)
		return 1;
	if (level == LOG_LEVEL_WARN)
		return log_verbosity >= 1;
	if (level == LOG_LEVEL_INFO)
		return log_verbosity >= 2 || (log_info_always && log_verbosity >= 1);
	return log_verbosity >= 3;
}

void
log_vmsg(enum log_level level, const char *func, const char *fmt, va_list ap)
{
	char msg[2048];
	char stamp[64];
	struct tm tm;
	time_t now;
	FILE *out;

	if (!log_wanted(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);

	if (log_kind == LOG_KIND_SYSLOG) {
		syslog(log_syslog_prio[level], "%s", msg);
		return;
	}
	out = log_kind == LOG_KIND_FILE ? log_file : stderr;
	now = time(NULL);
	localtime_r(&now, &tm);
	if (log_style == LOG_STYLE_DNSFAILOVER) {
		strftime(stamp, sizeof(stamp), "%d.%m.%Y %H:%M:%S", &tm);
		fprintf(out, "%s [%-8s] [%s] %s\n", stamp, log_level_names_py[level],
			func != NULL ? func : "main", msg);
		return;
	}
	if (log_kind == LOG_KIND_FILE) {
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S%z", &tm);
		fprintf(out, "%s mxfailover[%s]: %s\n", stamp, log_level_names[level], msg);
	} else if (level == LOG_LEVEL_INFO) {
		fprintf(out, "mxfailover: %s\n", msg);
	} else {
		fprintf(out, "mxfailover: %s: %s\n", log_level_names[level], msg);
	}
}

void
log_msg(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, func, fmt, ap);
	va_end(ap);
}
