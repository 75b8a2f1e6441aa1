/*
 * argv.c -- the command-line splitter (see argv.h for the grammar).
 */
#include "argv.h"

#include <stdlib.h>
#include <string.h>

#include "mxf.h"

static int
argv_fail(char **v, enum argv_why *why, enum argv_why reason, int err)
{
	argv_free(v);
	if (why != NULL)
		*why = reason;
	return err;
}

int
argv_split_why(const char *s, size_t max, char ***out, enum argv_why *why)
{
	char **v;
	size_t n = 0;

	if (why != NULL)
		*why = ARGV_OK;
	if (s == NULL)
		return argv_fail(NULL, why, ARGV_EMPTY, MXF_EINVAL);
	v = calloc(max + 1, sizeof(*v));
	if (v == NULL)
		return argv_fail(NULL, why, ARGV_NOMEM, MXF_ENOMEM);
	for (;;) {
		const char *start;
		size_t len;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (n == max)
			return argv_fail(v, why, ARGV_TOO_MANY, MXF_ETOOBIG);
		if (*s == '\'' || *s == '"') {
			const char *close = strchr(s + 1, *s);

			if (close == NULL)
				return argv_fail(v, why, ARGV_UNTERMINATED, MXF_EINVAL);
			if (close[1] != '\0' && close[1] != ' ' && close[1] != '\t')
				return argv_fail(v, why, ARGV_QUOTE_END, MXF_EINVAL);
			start = s + 1;
			len = (size_t)(close - start);
			s = close + 1;
		} else {
			start = s;
			len = strcspn(s, " \t");
			s += len;
			if (memchr(start, '\'', len) != NULL || memchr(start, '"', len) != NULL)
				return argv_fail(v, why, ARGV_QUOTE_MID, MXF_EINVAL);
		}
		v[n] = strndup(start, len);
		if (v[n] == NULL)
			return argv_fail(v, why, ARGV_NOMEM, MXF_ENOMEM);
		n++;
	}
	if (n == 0)
		return argv_fail(v, why, ARGV_EMPTY, MXF_EINVAL);
	*out = v;
	return 0;
}

int
argv_split(const char *s, size_t max, char ***out)
{
	return argv_split_why(s, max, out, NULL);
}

size_t
argv_count(char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

void
argv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p != NULL; p++)
		free(*p);
	free(v);
}
