/*
 * log.h -- the one place mxfailover writes diagnostics.
 *
 * Pure modules never log; the caller that decides logs once, with the peer's
 * address.  Targets are stderr (default), syslog, or a file opened for
 * appending.  Two line styles exist: the native one and DNS_Failover's
 * ("23.11.2026 09:00:00 [INFO    ] [main] message"), used when that
 * program's config.cfg is loaded so existing log watchers keep working.
 */
#ifndef MXF_LOG_H
#define MXF_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_ERR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };
enum log_style { LOG_STYLE_NATIVE, LOG_STYLE_DNSFAILOVER };

/*
 * log_open -- direct log output.
 * @target "stderr", "syslog", or an absolute path of a file to append to.
 * @return 0, or MXF_EIO when the file cannot be opened (logging then stays
 *         on stderr and the caller reports the failure).
 */
int log_open(const char *target, enum log_style style);
void log_close(void);

/* -q gives 0 (errors only), default 1 (warnings), -v 2 (info), -vv 3. */
void log_set_verbosity(int verbosity);
/* When true, info lines are written whatever the verbosity (the daemon). */
void log_set_info_always(int on);

/*
 * log_add_secret -- text no log line may show (the TSIG secret in base64):
 * every occurrence in a line is written as "[redacted]".  Copied; kept for
 * the life of the process (a reload adds the new key's, the old one stays).
 * Strings shorter than LOG_SECRET_MIN are ignored; beyond LOG_SECRETS_MAX
 * the oldest is forgotten.
 * @return 0, MXF_ETOOBIG when @secret is longer than LOG_SECRET_LEN.
 */
#define LOG_SECRET_MIN 4
#define LOG_SECRET_LEN 255
#define LOG_SECRETS_MAX 16
int log_add_secret(const char *secret);

void log_msg(enum log_level level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, const char *func, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#define log_err(...) log_msg(LOG_LEVEL_ERR, __func__, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __func__, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __func__, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __func__, __VA_ARGS__)

#endif
