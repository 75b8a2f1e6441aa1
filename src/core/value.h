/*
 * value.h -- the small values every layer reads and prints: durations,
 * whole numbers, booleans, IP literals, domain names, host:port, and
 * text from the network made one safe line of UTF-8.
 *
 * One grammar per kind of value, so a duration means the same on the
 * command line, in either configuration format and in a check URL.  Each
 * caller keeps its own range ("greater than zero", "at most 1 h").
 *
 * Pure: libc only, no I/O, no logging.
 */
#ifndef MXF_VALUE_H
#define MXF_VALUE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Room for any value_format_duration* output, NUL included. */
#define VALUE_DURATION_BUF 32

/*
 * value_parse_duration -- a duration: NUMBER [UNIT], where NUMBER is decimal
 * digits with an optional fraction ("10", "1.5", ".5", "5.") and UNIT one of
 * ms, s, m, min, h, d; no unit means seconds.  Nothing else: no sign, no
 * white space, no exponent.  A fraction of a millisecond is dropped.
 * @s   the text, NUL-terminated (NULL is refused).
 * @ms  receives the duration in milliseconds on success.
 * @return 0, or MXF_EINVAL for anything else, including a duration too
 *         large to count in microseconds in 64 bits.  Zero is accepted:
 *         callers that need more say so.
 */
int value_parse_duration(const char *s, uint64_t *ms);

/*
 * value_format_duration -- @ms as it would be written in a configuration:
 * the largest of h, m, s that divides it exactly, else ms ("1h", "5m",
 * "10s", "1500ms"), and "0" for zero.  value_parse_duration reads it back.
 * @return @buf, always NUL-terminated (cut when @size is too small).
 */
char *value_format_duration(uint64_t ms, char *buf, size_t size);

/*
 * value_format_duration_elapsed -- a measured time for people: "850 ms"
 * below a second, else seconds with one decimal ("12.3 s").
 * @return @buf, always NUL-terminated.
 */
char *value_format_duration_elapsed(uint64_t ms, char *buf, size_t size);

/*
 * value_format_duration_span -- a span of seconds in the two largest units
 * that matter: "45 s", "12 min", "2 h 10 min", "3 d 4 h".  Negative spans
 * print as "0 s".
 * @return @buf, always NUL-terminated.
 */
char *value_format_duration_span(int64_t secs, char *buf, size_t size);

/*
 * value_parse_uint -- a whole-string unsigned decimal integer in [@min, @max]
 * (digits only: no sign, no white space).
 * @return 0 with *@out set, or MXF_EINVAL.
 */
int value_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/*
 * value_parse_bool -- yes/true/on/1 or no/false/off/0, case-insensitive.
 * @return 0 with *@out set, or MXF_EINVAL.
 */
int value_parse_bool(const char *s, bool *out);

/* @return 4 or 6 when @s is an IPv4 or IPv6 literal, else 0. */
int value_is_ip(const char *s);

/*
 * value_ip_sockaddr -- the IPv4 or IPv6 literal @s with @port as a socket
 * address, without any name lookup.
 * @ss, @sslen  on success the address (zero-filled around it) and its
 *              length; untouched when @s is not a literal.
 * @return 4 or 6 for the family, 0 when @s is not an IP literal.
 */
int value_ip_sockaddr(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *sslen);

/*
 * value_is_hostname -- whether the @n bytes at @s are a host name: labels of
 * 1..63 letters, digits, '-' and '_', none starting with '-', 253 bytes in
 * all not counting an optional trailing dot.  (A name given to a check must
 * not look like an option to a program it is handed to.)
 */
bool value_is_hostname(const char *s, size_t n);

/*
 * value_normalize_name -- validate a domain name (LDH and '_' labels of 1..63
 * characters, 253 in all, optional trailing dot).
 * @return a malloc'ed lower-case absolute copy (trailing dot) the caller
 *         frees, or NULL with errno EINVAL (not a name) or ENOMEM.
 */
char *value_normalize_name(const char *s);

/*
 * value_parse_hostport -- "host", "host:port", "[v6]:port" or a bare IPv6
 * address; host is an IP literal or a domain name, port 1..65535.
 * @host   receives a malloc'ed copy without brackets the caller frees.
 * @port   receives the port, or @defport when none was written.
 * @return 0, MXF_EINVAL (nothing is allocated) or MXF_ENOMEM.
 */
int value_parse_hostport(const char *s, char **host, uint16_t *port, uint16_t defport);

/*
 * value_format_hostport -- "@host:@port" into @buf (always NUL-terminated),
 * with an IPv6 literal (a host with a ':' not already in brackets) as
 * "[@host]:@port", the way people and logs name a server.
 * @return @buf.
 */
char *value_format_hostport(const char *host, uint16_t port, char *buf, size_t size);

/*
 * value_utf8_clean -- copy untrusted text (a banner, a reply, an error text
 * from a server, program output) into @dst as one line of valid UTF-8 that
 * a JSON encoder, a log line and a terminal all accept.  This is where text
 * from outside enters: every byte that is not part of a valid UTF-8
 * sequence (a stray continuation byte, a truncated sequence, an overlong
 * form, a surrogate, a code point above U+10FFFF) becomes one '?', and so
 * does each C0 control, DEL and C1 control (U+0080..U+009F).  Other valid
 * UTF-8 is kept as it is, so clean text passes unchanged.
 * @dst, @size  the output; always NUL-terminated when @size > 0.
 * @src, @len   the input: @len bytes, NUL bytes included (each becomes '?').
 * @return the length written.  Text that does not fit in @size - 1 bytes is
 *         cut on a character boundary and ends in "..." (when @size >= 4),
 *         so the output never ends in part of a character.
 */
size_t value_utf8_clean(char *dst, size_t size, const char *src, size_t len);

/*
 * value_utf8_format -- printf into @dst, then value_utf8_clean() the result:
 * for a message put together from pieces (a label and a server's reason)
 * that must fit a fixed buffer without ending in half a character.
 * @return the length written.
 */
size_t value_utf8_format(char *dst, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
size_t value_utf8_vformat(char *dst, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/*
 * value_utf8_valid -- whether the @len bytes at @s are valid UTF-8 without
 * control characters, i.e. what value_utf8_clean() would copy unchanged.
 */
bool value_utf8_valid(const char *s, size_t len);

#endif
