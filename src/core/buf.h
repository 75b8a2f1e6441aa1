/*
 * buf.h -- one growing string buffer with a hard maximum.
 *
 * Text builders (notices, status pages, canonical check URLs) append to a
 * struct buf without checking each call: the first allocation failure or
 * the first append past the maximum sets a sticky error, after which every
 * append does nothing, and the builder checks once at the end (buf_take or
 * buf_error).  What was appended before the error stays, but is never handed
 * out as if complete.
 *
 *	struct buf b = BUF_INIT(4096);
 *	buf_printf(&b, "%s=%d", k, v);
 *	char *s = buf_take(&b);        // NULL on error; the caller frees s
 *
 * A zeroed struct buf is a valid empty buffer with BUF_MAX_DEFAULT.
 */
#ifndef MXF_BUF_H
#define MXF_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Longest text a buffer holds when no maximum was given. */
#define BUF_MAX_DEFAULT (16u * 1024 * 1024)

struct buf {
	char *s;    /* NUL-terminated once anything was appended, else NULL */
	size_t len; /* bytes in s, without the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* most bytes len may reach; 0 means BUF_MAX_DEFAULT */
	int err;    /* 0, MXF_ENOMEM or MXF_ETOOBIG; sticky */
};

/* An empty buffer that holds at most @max bytes of text. */
#define BUF_INIT(maxlen) ((struct buf){.max = (maxlen)})

/*
 * buf_printf -- append printf-formatted text.  On failure sets the sticky
 * error (MXF_ENOMEM, or MXF_ETOOBIG when the text would pass the maximum;
 * nothing of this call is then appended).
 */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* As buf_printf, with a va_list. */
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Append @n bytes of @s (which need not be NUL-terminated); errors as buf_printf. */
void buf_append(struct buf *b, const char *s, size_t n);

/* @return the sticky error: 0, MXF_ENOMEM or MXF_ETOOBIG. */
int buf_error(const struct buf *b);

/*
 * buf_str -- the text so far, for reading in place.
 * @return a NUL-terminated string owned by @b ("" when empty); valid until
 *         the next append, buf_take or buf_free.
 */
const char *buf_str(const struct buf *b);

/*
 * buf_take -- hand the text to the caller and empty the buffer.
 * @return a malloc'ed NUL-terminated string the caller frees ("" when
 *         nothing was appended), or NULL when the buffer is in error or the
 *         empty string cannot be allocated.  In every case @b is left empty
 *         and error-free, with its maximum, and owns nothing.
 */
char *buf_take(struct buf *b);

/* Free the text and reset @b to empty (keeping its maximum).  NULL is a no-op. */
void buf_free(struct buf *b);

#endif
