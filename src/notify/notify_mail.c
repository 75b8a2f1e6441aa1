/*
 * notify_mail.c -- the mail channel: one RFC 5322 message per event, sent
 * with libcurl's SMTP client on the notifier's multi handle (notify_curl.c).
 *
 * Transport (see notify_new() in notify.h): an smtp(s) URL, or via_active,
 * smtp://ACTIVE-NAME:PORT pinned to the active server's address with
 * CURLOPT_RESOLVE.  A password never travels in clear text: with a user (or
 * on port 587, or via_active_starttls) STARTTLS is required, not tried.  The
 * password comes from a file only its owner can read, or from the inline
 * DNS_Failover setting, and is registered as a secret so no notice or log
 * line ever shows it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "file.h"
#include "mxf.h"
#include "notify_impl.h"
#include "notify_text.h"

#define MAIL_PASSWORD_MAX 1024       /* bytes of a password file */

struct mail {
	char *mail_to, *mail_from, *smtp_url, *smtp_user, *password;
	char **rcpt;
	bool via_starttls;
	uint16_t via_port;
	unsigned long msg_counter;   /* Message-IDs made */
};

static void
mail_state_free(void *state)
{
	struct mail *m = state;

	if (m->password != NULL) {
		explicit_bzero(m->password, strlen(m->password));
		free(m->password);
	}
	free(m->mail_to);
	free(m->mail_from);
	free(m->smtp_url);
	free(m->smtp_user);
	notify_strv_free(m->rcpt);
	free(m);
}

/* The password is the first line of a file only its owner can read. */
static int
read_password_file(const char *path, char **out, char *err, size_t errsize)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = file_read_secret("smtp_password_file", path, MAIL_PASSWORD_MAX, &buf, &len, err,
			      errsize);
	if (rc != 0)
		return rc;
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		snprintf(err, errsize, "smtp_password_file %s is empty", path);
		rc = MXF_EINVAL;
	} else if ((*out = strdup(buf)) == NULL) {
		snprintf(err, errsize, "out of memory");
		rc = MXF_ENOMEM;
	}
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

static int
mail_setup(struct notify *n, const struct config_notify *cfg, void **state, char *err,
	   size_t errsize)
{
	struct mail *m;
	int rc;

	if (cfg->mail_to == NULL || (cfg->smtp_url == NULL && !cfg->via_active))
		return 0;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return MXF_ENOMEM;
	rc = notify_text_split_addresses(cfg->mail_to, &m->rcpt);
	if (rc == MXF_EINVAL) {
		snprintf(err, errsize, "mail_to: '%s' is not a list of mail addresses",
			 cfg->mail_to);
		goto fail;
	}
	if (rc != 0 || (rc = notify_dup(cfg->mail_to, &m->mail_to)) != 0 ||
	    (rc = notify_dup(cfg->smtp_url, &m->smtp_url)) != 0 ||
	    (rc = notify_dup(cfg->smtp_user, &m->smtp_user)) != 0)
		goto fail;
	if (cfg->mail_from != NULL) {
		if ((rc = notify_dup(cfg->mail_from, &m->mail_from)) != 0)
			goto fail;
	} else if (asprintf(&m->mail_from, "mxfailover@%s", notify_hostname(n)) < 0) {
		m->mail_from = NULL;
		rc = MXF_ENOMEM;
		goto fail;
	}
	m->via_starttls = cfg->via_active_starttls;
	m->via_port = cfg->via_active_port != 0 ? cfg->via_active_port : 25;
	if (cfg->smtp_password_file != NULL) {
		rc = read_password_file(cfg->smtp_password_file, &m->password, err, errsize);
		if (rc != 0)
			goto fail;
	} else if (cfg->smtp_password != NULL &&
		   (rc = notify_dup(cfg->smtp_password, &m->password)) != 0) {
		goto fail;
	}
	if (m->password != NULL && (rc = notify_add_secret(n, m->password)) != 0)
		goto fail;
	*state = m;
	return 0;
fail:
	mail_state_free(m);
	return rc;
}

/* The payload: the whole message, with a Message-ID unique to this run. */
static char *
mail_payload(const struct notify_delivery *d)
{
	struct mail *m = d->chan;
	const struct notify_event *e = &d->nt->e;
	const char *host = notify_hostname(d->n);
	const char *dom = strchr(m->mail_from, '@');
	char msgid[400];

	snprintf(msgid, sizeof(msgid), "mxfailover.%lld.%ld.%lu@%s", (long long)e->time,
		 (long)getpid(), ++m->msg_counter, dom != NULL ? dom + 1 : host);
	return notify_text_mail_message(e, m->mail_from, m->mail_to, msgid, host,
					(time_t)(clock_wall_ms() / 1000));
}

static size_t
mail_read_fn(char *buf, size_t size, size_t nitems, void *arg)
{
	struct notify_delivery *d = arg;
	size_t room = size * nitems, left = d->len - d->off;
	size_t k = left < room ? left : room;

	memcpy(buf, d->payload + d->off, k);
	d->off += k;
	return k;
}

static bool
url_port_is(const char *url, unsigned port)
{
	char peer[300], suffix[16];
	size_t pl, sl;

	notify_text_url_peer(url, peer, sizeof(peer));
	snprintf(suffix, sizeof(suffix), ":%u", port);
	pl = strlen(peer);
	sl = strlen(suffix);
	return pl > sl && strcmp(peer + pl - sl, suffix) == 0;
}

/* The URL (its path is the EHLO name) and how much TLS to demand. */
static int
mail_url(struct notify_delivery *d, char *url, size_t urlsize, long *ssl, char *why,
	 size_t whysize)
{
	const struct mail *m = d->chan;
	const char *host = notify_hostname(d->n);
	const char *name, *addr;
	bool v6;

	if (m->smtp_url != NULL) {
		const char *rest = strstr(m->smtp_url, "://");
		bool has_path;

		rest = rest != NULL ? rest + 3 : m->smtp_url;
		has_path = strchr(rest, '/') != NULL;
		/* libcurl takes the EHLO name from the URL's path. */
		snprintf(url, urlsize, "%s%s%s", m->smtp_url, has_path ? "" : "/",
			 has_path ? "" : host);
		if (strncasecmp(m->smtp_url, "smtps://", 8) == 0)
			*ssl = CURLUSESSL_ALL;
		else if (m->smtp_user != NULL || url_port_is(m->smtp_url, 587))
			*ssl = CURLUSESSL_ALL;
		else
			*ssl = CURLUSESSL_TRY;
		return 0;
	}
	notify_active_server(d->n, &name, &addr);
	v6 = addr != NULL && strchr(addr, ':') != NULL;
	if (name == NULL && addr == NULL) {
		snprintf(why, whysize, "no active server known to send through");
		return MXF_EINVAL;
	}
	if (name != NULL) {
		char r[600];

		snprintf(url, urlsize, "smtp://%s:%u/%s", name, (unsigned)m->via_port, host);
		if (addr != NULL) {
			snprintf(r, sizeof(r), "%s:%u:%s%s%s", name, (unsigned)m->via_port,
				 v6 ? "[" : "", addr, v6 ? "]" : "");
			d->xfer.resolve = curl_slist_append(NULL, r);
			if (d->xfer.resolve == NULL) {
				snprintf(why, whysize, "out of memory");
				return MXF_ENOMEM;
			}
		}
	} else {
		snprintf(url, urlsize, "smtp://%s%s%s:%u/%s", v6 ? "[" : "", addr, v6 ? "]" : "",
			 (unsigned)m->via_port, host);
	}
	*ssl = (m->via_starttls || m->smtp_user != NULL) ? CURLUSESSL_ALL : CURLUSESSL_TRY;
	return 0;
}

static int
mail_curl_setup(struct notify_curl_xfer *x, void *arg, char *why, size_t whysize)
{
	struct notify_delivery *d = arg;
	const struct mail *m = d->chan;
	CURL *h = x->easy;
	char url[600], from[320];
	long ssl;
	int rc;

	d->off = 0;
	rc = mail_url(d, url, sizeof(url), &ssl, why, whysize);
	if (rc != 0)
		return rc;
	for (char **r = m->rcpt; *r != NULL; r++) {
		struct curl_slist *l = curl_slist_append(x->list, *r);
		if (l == NULL) {
			snprintf(why, whysize, "out of memory");
			return MXF_ENOMEM;
		}
		x->list = l;
	}
	snprintf(from, sizeof(from), "<%s>", m->mail_from);
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_USE_SSL, ssl) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, x->list) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_READFUNCTION, mail_read_fn) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_READDATA, d) != CURLE_OK ||
	    (x->resolve != NULL && curl_easy_setopt(h, CURLOPT_RESOLVE, x->resolve) != CURLE_OK) ||
	    (m->smtp_user != NULL &&
	     (curl_easy_setopt(h, CURLOPT_USERNAME, m->smtp_user) != CURLE_OK ||
	      curl_easy_setopt(h, CURLOPT_PASSWORD, m->password != NULL ? m->password : "") !=
		      CURLE_OK))) {
		snprintf(why, whysize, "libcurl refused an option");
		return MXF_EINVAL;
	}
	return 0;
}

static void
mail_done(struct notify_curl_xfer *x, CURLcode rc, long code)
{
	struct notify_delivery *d = x->arg;
	char why[CURL_ERROR_SIZE + 64];
	bool retry;

	if (rc == CURLE_OK) {
		notify_attempt_done(d, true, false, NULL);
		return;
	}
	retry = notify_curl_failure(x, rc, why, sizeof(why));
	/* A permanent SMTP refusal stays one. */
	if (code >= 500 && code < 600)
		retry = false;
	notify_attempt_done(d, false, retry, why);
}

static const char *
mail_peer(const struct notify_delivery *d, char *buf, size_t size)
{
	const struct mail *m = d->chan;
	const char *name, *addr;
	bool v6;

	if (m->smtp_url != NULL)
		return notify_text_url_peer(m->smtp_url, buf, size);
	notify_active_server(d->n, &name, &addr);
	v6 = addr != NULL && strchr(addr, ':') != NULL;
	snprintf(buf, size, "%s%s%s:%u", v6 ? "[" : "",
		 addr != NULL ? addr : name != NULL && *name != '\0' ? name : "?", v6 ? "]" : "",
		 (unsigned)m->via_port);
	return buf;
}

const struct notify_channel_ops notify_mail_ops =
	NOTIFY_CURL_CHANNEL("mail", mail_setup, mail_state_free, mail_payload, mail_peer,
			    mail_curl_setup, mail_done);
