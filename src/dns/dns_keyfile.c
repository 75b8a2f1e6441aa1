/*
 * dns_keyfile.c -- BIND key files (what tsig-keygen writes and BIND keeps in
 * session.key): a small lexer (words, strings, braces, semicolons and
 * //, # and C comments, with line numbers for messages), a parser of
 * key "NAME" { algorithm ...; secret "..."; }; and strict base64.
 *
 * The secret is wiped from every buffer it passed through and never
 * appears in a message.
 */
#include "dns_keyfile.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "file.h"
#include "mxf.h"

#define KEYFILE_MAX (64 * 1024)
#define TOKEN_MAX 4096

static int
b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64 (whitespace allowed, padding checked). */
static int
b64_decode(const char *s, uint8_t *out, size_t outmax, size_t *outlen)
{
	uint32_t acc = 0;
	size_t o = 0, n = 0, pad = 0;

	for (; *s != '\0'; s++) {
		int v;
		if (isspace((unsigned char)*s))
			continue;
		if (*s == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			return MXF_EINVAL;
		v = b64_val((unsigned char)*s);
		if (v < 0)
			return MXF_EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		n++;
		if (n % 4 == 0) {
			if (o + 3 > outmax)
				return MXF_ETOOBIG;
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
		}
	}
	switch (n % 4) {
	case 0:
		if (pad != 0)
			return MXF_EINVAL;
		break;
	case 2:
		if (pad > 2 || o + 1 > outmax)
			return MXF_EINVAL;
		out[o++] = (uint8_t)(acc >> 4);
		break;
	case 3:
		if (pad > 1 || o + 2 > outmax)
			return MXF_EINVAL;
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
		break;
	default:
		return MXF_EINVAL;
	}
	if (o == 0)
		return MXF_EINVAL;
	*outlen = o;
	return 0;
}

enum tok_kind { TOK_EOF, TOK_WORD, TOK_STRING, TOK_LBRACE, TOK_RBRACE, TOK_SEMI, TOK_ERR };

struct lexer {
	const char *p, *end;
	const char *fname;
	int line;
	char text[TOKEN_MAX];
	int tok_line;
	char *err;
	size_t errlen;
};

static void __attribute__((format(printf, 3, 4)))
lex_error(struct lexer *lx, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(lx->err, lx->errlen, "%s:%d: ", lx->fname, line);
	if (n < 0 || (size_t)n >= lx->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(lx->err + n, lx->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static enum tok_kind
lex_next(struct lexer *lx)
{
	size_t n = 0;

	for (;;) {
		while (lx->p < lx->end && isspace((unsigned char)*lx->p)) {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		if (lx->p >= lx->end)
			return TOK_EOF;
		if (*lx->p == '#' || (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			continue;
		}
		if (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
			int start = lx->line;
			lx->p += 2;
			while (lx->p + 1 < lx->end && !(lx->p[0] == '*' && lx->p[1] == '/')) {
				if (*lx->p == '\n')
					lx->line++;
				lx->p++;
			}
			if (lx->p + 1 >= lx->end) {
				lex_error(lx, start, "unterminated /* comment");
				return TOK_ERR;
			}
			lx->p += 2;
			continue;
		}
		break;
	}
	lx->tok_line = lx->line;
	switch (*lx->p) {
	case '{':
		lx->p++;
		return TOK_LBRACE;
	case '}':
		lx->p++;
		return TOK_RBRACE;
	case ';':
		lx->p++;
		return TOK_SEMI;
	case '"':
		lx->p++;
		while (lx->p < lx->end && *lx->p != '"') {
			if (*lx->p == '\n') {
				lex_error(lx, lx->tok_line, "unterminated string");
				return TOK_ERR;
			}
			if (*lx->p == '\\' && lx->p + 1 < lx->end)
				lx->p++;
			if (n + 1 >= sizeof(lx->text)) {
				lex_error(lx, lx->tok_line, "string too long");
				return TOK_ERR;
			}
			lx->text[n++] = *lx->p++;
		}
		if (lx->p >= lx->end) {
			lex_error(lx, lx->tok_line, "unterminated string");
			return TOK_ERR;
		}
		lx->p++;
		lx->text[n] = '\0';
		return TOK_STRING;
	default:
		break;
	}
	while (lx->p < lx->end && !isspace((unsigned char)*lx->p) && strchr("{};\"", *lx->p) == NULL) {
		if (n + 1 >= sizeof(lx->text)) {
			lex_error(lx, lx->tok_line, "word too long");
			return TOK_ERR;
		}
		if ((unsigned char)*lx->p < ' ') {
			lex_error(lx, lx->tok_line, "control character in key file");
			return TOK_ERR;
		}
		lx->text[n++] = *lx->p++;
	}
	lx->text[n] = '\0';
	return TOK_WORD;
}

static const char *
tok_desc(enum tok_kind t, const struct lexer *lx)
{
	switch (t) {
	case TOK_EOF: return "end of file";
	case TOK_LBRACE: return "'{'";
	case TOK_RBRACE: return "'}'";
	case TOK_SEMI: return "';'";
	case TOK_STRING: return "a string";
	case TOK_WORD: return lx->text;
	case TOK_ERR: return "an error";
	}
	return "?";
}

/* Expect a token; on a mismatch report "expected WHAT" and fail. */
static int
lex_expect(struct lexer *lx, enum tok_kind want, const char *what)
{
	enum tok_kind t = lex_next(lx);

	if (t == TOK_ERR)
		return MXF_EINVAL;
	if (t != want) {
		lex_error(lx, lx->tok_line, "expected %s, found %s%s%s", what,
			  t == TOK_WORD ? "'" : "", tok_desc(t, lx), t == TOK_WORD ? "'" : "");
		return MXF_EINVAL;
	}
	return 0;
}

int
dns_keyfile_parse(const char *text, size_t len, const char *fname, const char *want,
		   struct dns_tsig_key **out, char *err, size_t errlen)
{
	struct lexer lx = {.p = text, .end = text + len, .fname = fname, .line = 1,
			   .err = err, .errlen = errlen};
	char name[256], secret_b64[TOKEN_MAX];
	uint8_t *secret = NULL;
	size_t secret_len = 0;
	int nkeys = 0, rc = MXF_EINVAL;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	secret = malloc(DNS_TSIG_MAX_SECRET);
	if (secret == NULL)
		return MXF_ENOMEM;
	for (;;) {
		enum tok_kind t = lex_next(&lx);
		enum dns_tsig_alg alg = DNS_TSIG_HMAC_SHA256;
		int key_line, have_alg = 0, have_secret = 0, secret_line = 0;
		uint8_t wire[256];
		size_t wl;

		if (t == TOK_ERR)
			goto fail;
		if (t == TOK_EOF)
			break;
		if (t != TOK_WORD || strcmp(lx.text, "key") != 0) {
			lex_error(&lx, lx.tok_line, "expected 'key', found %s%s%s",
				  t == TOK_WORD ? "'" : "", tok_desc(t, &lx), t == TOK_WORD ? "'" : "");
			goto fail;
		}
		key_line = lx.tok_line;
		t = lex_next(&lx);
		if (t == TOK_ERR)
			goto fail;
		if (t != TOK_WORD && t != TOK_STRING) {
			lex_error(&lx, lx.tok_line, "expected a key name, found %s", tok_desc(t, &lx));
			goto fail;
		}
		if (strlen(lx.text) >= sizeof(name) - 1 ||
		    dns_tsig_name_to_wire(lx.text, wire, &wl) != 0) {
			lex_error(&lx, lx.tok_line, "invalid key name \"%s\"", lx.text);
			goto fail;
		}
		memcpy(name, lx.text, strlen(lx.text) + 1);
		if (lex_expect(&lx, TOK_LBRACE, "'{'") != 0)
			goto fail;
		for (;;) {
			const char *stmt;
			t = lex_next(&lx);
			if (t == TOK_ERR)
				goto fail;
			if (t == TOK_RBRACE)
				break;
			if (t != TOK_WORD) {
				lex_error(&lx, lx.tok_line,
					  "expected 'algorithm', 'secret' or '}', found %s",
					  tok_desc(t, &lx));
				goto fail;
			}
			if (strcmp(lx.text, "algorithm") != 0 && strcmp(lx.text, "secret") != 0) {
				lex_error(&lx, lx.tok_line, "unknown statement '%s' in key \"%s\"",
					  lx.text, name);
				goto fail;
			}
			stmt = strcmp(lx.text, "algorithm") == 0 ? "algorithm" : "secret";
			t = lex_next(&lx);
			if (t == TOK_ERR)
				goto fail;
			if (t != TOK_WORD && t != TOK_STRING) {
				lex_error(&lx, lx.tok_line, "expected a value after '%s', found %s",
					  stmt, tok_desc(t, &lx));
				goto fail;
			}
			if (strcmp(stmt, "algorithm") == 0) {
				if (dns_tsig_alg_parse(lx.text, &alg) != 0) {
					lex_error(&lx, lx.tok_line,
						  "unknown algorithm '%s' (use hmac-md5, hmac-sha1, "
						  "hmac-sha224, hmac-sha256, hmac-sha384 or "
						  "hmac-sha512)", lx.text);
					goto fail;
				}
				have_alg = 1;
			} else {
				memcpy(secret_b64, lx.text, strlen(lx.text) + 1);
				secret_line = lx.tok_line;
				have_secret = 1;
			}
			if (lex_expect(&lx, TOK_SEMI, "';'") != 0)
				goto fail;
		}
		if (lex_expect(&lx, TOK_SEMI, "';' after '}'") != 0)
			goto fail;
		if (!have_alg) {
			lex_error(&lx, key_line, "key \"%s\" has no algorithm", name);
			goto fail;
		}
		if (!have_secret) {
			lex_error(&lx, key_line, "key \"%s\" has no secret", name);
			goto fail;
		}
		if (b64_decode(secret_b64, secret, DNS_TSIG_MAX_SECRET, &secret_len) != 0) {
			/* Never quote the secret itself. */
			lex_error(&lx, secret_line, "the secret of key \"%s\" is not valid base64",
				  name);
			goto fail;
		}
		nkeys++;
		if (*out == NULL) {
			size_t wn = want != NULL ? strlen(want) : 0;
			size_t kn = strlen(name);
			if (wn > 0 && want[wn - 1] == '.')
				wn--;
			if (kn > 0 && name[kn - 1] == '.')
				kn--;
			if (want == NULL || (wn == kn && strncasecmp(want, name, kn) == 0)) {
				rc = dns_tsig_key_new(name, alg, secret, secret_len, out);
				if (rc != 0)
					goto fail;
			}
		}
		OPENSSL_cleanse(secret_b64, sizeof(secret_b64));
	}
	if (*out == NULL) {
		if (nkeys == 0)
			snprintf(err, errlen, "%s: no key in the file", fname);
		else
			snprintf(err, errlen, "%s: no key named \"%s\" in the file", fname,
				 want != NULL ? want : "");
		rc = MXF_EINVAL;
		goto fail;
	}
	OPENSSL_cleanse(secret, DNS_TSIG_MAX_SECRET);
	free(secret);
	return 0;
fail:
	OPENSSL_cleanse(secret_b64, sizeof(secret_b64));
	OPENSSL_cleanse(secret, DNS_TSIG_MAX_SECRET);
	free(secret);
	dns_tsig_key_free(*out);
	*out = NULL;
	return rc == 0 ? MXF_EINVAL : rc;
}

int
dns_keyfile_load(const char *path, const char *want, struct dns_tsig_key **out, char *err,
		  size_t errlen)
{
	char *buf = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	rc = file_read_secret("key file", path, KEYFILE_MAX, &buf, &n, err, errlen);
	if (rc != 0)
		return rc;
	rc = dns_keyfile_parse(buf, n, path, want, out, err, errlen);
	OPENSSL_cleanse(buf, n);
	free(buf);
	return rc;
}
