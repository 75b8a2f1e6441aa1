/*
 * buf.c -- the growing string buffer (see buf.h).
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxf.h"

static size_t
buf_max(const struct buf *b)
{
	return b->max != 0 ? b->max : BUF_MAX_DEFAULT;
}

/* Make room for @n more bytes and the NUL.  @return 0 or sets b->err. */
static int
buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	char *s;

	if (n > buf_max(b) - b->len) {
		b->err = MXF_ETOOBIG;
		return b->err;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap < 64 ? 64 : b->cap;
	while (cap < need)
		cap *= 2;
	if (cap > buf_max(b) + 1)
		cap = buf_max(b) + 1;
	s = realloc(b->s, cap);
	if (s == NULL) {
		b->err = MXF_ENOMEM;
		return b->err;
	}
	b->s = s;
	b->cap = cap;
	return 0;
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (b->err != 0)
		return;
	va_copy(aq, ap);
	n = vsnprintf(b->s != NULL ? b->s + b->len : NULL, b->s != NULL ? b->cap - b->len : 0, fmt,
		      aq);
	va_end(aq);
	if (n < 0) {
		b->err = MXF_ENOMEM;
		return;
	}
	if (b->s != NULL && (size_t)n < b->cap - b->len) {
		if ((size_t)n > buf_max(b) - b->len) {
			b->s[b->len] = '\0';
			b->err = MXF_ETOOBIG;
			return;
		}
		b->len += (size_t)n;
		return;
	}
	if (buf_reserve(b, (size_t)n) != 0) {
		if (b->s != NULL)
			b->s[b->len] = '\0';
		return;
	}
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
buf_append(struct buf *b, const char *s, size_t n)
{
	if (b->err != 0 || buf_reserve(b, n) != 0)
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

int
buf_error(const struct buf *b)
{
	return b->err;
}

const char *
buf_str(const struct buf *b)
{
	return b->s != NULL ? b->s : "";
}

char *
buf_take(struct buf *b)
{
	char *s = b->s;

	if (b->err != 0) {
		free(s);
		s = NULL;
	} else if (s == NULL) {
		s = strdup("");
	}
	*b = BUF_INIT(b->max);
	return s;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->s);
	*b = BUF_INIT(b->max);
}
