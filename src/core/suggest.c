/*
 * suggest.c -- the nearest known word to a mistyped one (suggest.h).
 */
#include "suggest.h"

#include <ctype.h>
#include <string.h>

size_t
suggest_distance(const char *a, const char *b)
{
	/* Three rows of the optimal-string-alignment table suffice. */
	size_t rows[3][SUGGEST_MAX_WORD + 1];
	size_t la, lb;
	size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];

	a = a != NULL ? a : "";
	b = b != NULL ? b : "";
	la = strlen(a) < SUGGEST_MAX_WORD ? strlen(a) : SUGGEST_MAX_WORD;
	lb = strlen(b) < SUGGEST_MAX_WORD ? strlen(b) : SUGGEST_MAX_WORD;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *t;

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]),
			    cb = tolower((unsigned char)b[j - 1]);
			size_t cost = ca != cb, best = prev[j - 1] + cost;

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < best)
				best = pp[j - 2] + 1;
			cur[j] = best;
		}
		t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

const char *
suggest_nearest(const char *word, const char *const *words, size_t n)
{
	size_t len = word != NULL ? strlen(word) : 0;
	size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
	size_t best_d = (size_t)-1;
	const char *best = NULL;

	if (len == 0)
		return NULL;
	if (limit >= len)
		limit = len - 1;
	for (size_t i = 0; i < n; i++) {
		size_t d;

		if (words[i] == NULL)
			continue;
		d = suggest_distance(word, words[i]);
		if (d > 0 && d <= limit && d < best_d) {
			best_d = d;
			best = words[i];
		}
	}
	return best;
}
