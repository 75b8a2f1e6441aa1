/*
 * log.c -- log output to stderr, syslog or a file, in two line styles,
 * with registered secrets redacted from every line.
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

/* The secrets, oldest first; no heap, so nothing to free at exit. */
static char log_secrets[LOG_SECRETS_MAX][LOG_SECRET_LEN + 1];
static size_t log_nsecrets;

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

int
log_add_secret(const char *secret)
{
	size_t len = secret != NULL ? strlen(secret) : 0;

	if (len < LOG_SECRET_MIN)
		return 0;
	if (len > LOG_SECRET_LEN)
		return MXF_ETOOBIG;
	for (size_t i = 0; i < log_nsecrets; i++)
		if (strcmp(log_secrets[i], secret) == 0)
			return 0;
	if (log_nsecrets == LOG_SECRETS_MAX) {
		memmove(log_secrets[0], log_secrets[1], sizeof(log_secrets[0]) * (LOG_SECRETS_MAX - 1));
		log_nsecrets--;
	}
	memcpy(log_secrets[log_nsecrets++], secret, len + 1);
	return 0;
}

/* @msg with every secret replaced, into @out (cut to @size). */
static void
log_redact(const char *msg, char *out, size_t size)
{
	static const char mark[] = "[redacted]";
	size_t o = 0;

	while (*msg != '\0' && o + 1 < size) {
		size_t hit = 0;

		for (size_t i = 0; i < log_nsecrets && hit == 0; i++) {
			size_t k = strlen(log_secrets[i]);

			if (strncmp(msg, log_secrets[i], k) == 0)
				hit = k;
		}
		if (hit == 0) {
			out[o++] = *msg++;
			continue;
		}
		for (size_t j = 0; mark[j] != '\0' && o + 1 < size; j++)
			out[o++] = mark[j];
		msg += hit;
	}
	out[o] = '\0';
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
	char raw[2048], msg[2048];
	char stamp[64];
	struct tm tm;
	time_t now;
	FILE *out;

	if (!log_wanted(level))
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	log_redact(raw, msg, sizeof(msg));
	explicit_bzero(raw, sizeof(raw));

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
