/*
 * suggest.h -- "did you mean": the nearest of a list of known words to a
 * word someone mistyped (a command, a configuration key, a check scheme).
 *
 * Pure: libc only, no I/O.
 */
#ifndef MXF_SUGGEST_H
#define MXF_SUGGEST_H

#include <stddef.h>

/* Words longer than this are compared by their first SUGGEST_MAX_WORD bytes. */
#define SUGGEST_MAX_WORD 64

/*
 * suggest_distance -- the edit distance (Damerau-Levenshtein, optimal string
 * alignment: insert, delete, replace or swap two neighbours, each costing 1)
 * between @a and @b, compared case-insensitively in ASCII.
 * @return the distance; NULL counts as "".
 */
size_t suggest_distance(const char *a, const char *b);

/*
 * suggest_nearest -- the word of @words (@n of them; NULL entries skipped)
 * nearest to @word, when it is near enough to be a typo of it: at most 1
 * edit for words of up to 4 characters, 2 up to 8, else 3, and never as
 * many edits as @word has characters.  The first of equally near words
 * wins; @word itself (distance 0) is not a suggestion.
 * @return a pointer into @words (not copied), or NULL when none is near.
 */
const char *suggest_nearest(const char *word, const char *const *words, size_t n);

#endif
