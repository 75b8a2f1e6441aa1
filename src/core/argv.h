/*
 * argv.h -- split a command line into words, without a shell.
 *
 * The one grammar for programs named in a configuration (exec: checks, the
 * exec notifier): words are separated by spaces and tabs; a word may be
 * quoted whole with '...' or "..." to hold spaces (no escapes, no nesting,
 * no variables).  A quote may only start a word, and a quoted word must end
 * at a space, a tab or the end.  A line without quotes splits exactly on
 * white space.
 *
 * Pure: libc only.
 */
#ifndef MXF_ARGV_H
#define MXF_ARGV_H

#include <stddef.h>

/* Why argv_split_why refused a line. */
enum argv_why {
	ARGV_OK,
	ARGV_EMPTY,	   /* no words at all */
	ARGV_TOO_MANY,	   /* more than @max words */
	ARGV_UNTERMINATED, /* a quote without its closing quote */
	ARGV_QUOTE_END,	   /* text right after a closing quote */
	ARGV_QUOTE_MID,	   /* a quote inside an unquoted word */
	ARGV_NOMEM,
};

/*
 * argv_split -- split @s into words.
 * @max    the most words accepted.
 * @out    on success receives a malloc'ed vector of the words and a final
 *         NULL, which the caller frees with argv_free(); untouched on failure.
 * @return 0, MXF_EINVAL (no words, or bad quoting), MXF_ETOOBIG (more than
 *         @max words) or MXF_ENOMEM.
 */
int argv_split(const char *s, size_t max, char ***out);

/* As argv_split; @why (may be NULL) receives the reason, ARGV_OK on success. */
int argv_split_why(const char *s, size_t max, char ***out, enum argv_why *why);

/* @return the number of words in a NULL-terminated vector (0 for NULL). */
size_t argv_count(char *const *v);

/* Free a vector from argv_split and its words.  NULL is a no-op. */
void argv_free(char **v);

#endif
