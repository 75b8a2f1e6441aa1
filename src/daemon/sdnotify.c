/*
 * sdnotify.c -- systemd's notify protocol for `run` (sdnotify.h), through
 * libsystemd's sd_notify(); a build without libsystemd (-Dsystemd=disabled)
 * gets the same calls doing nothing.
 *
 * Ownership: the notifier owns its watchdog timer event; it borrows the
 * configuration and state only for the duration of a call.  Failures to
 * send are ignored (systemd gone or not there): nothing here may stop the
 * daemon from doing its job.
 */
#include "sdnotify.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "statusline.h"

#ifdef MXF_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

struct sdnotify {
	struct event *wd_ev;   /* the watchdog timer, NULL without watchdog */
	uint64_t wd_usec;      /* WatchdogSec= as systemd passed it */
	uint64_t last_done_ms; /* clock_mono_ms() of the last round's end (or start-up) */
	uint64_t stall_ms;     /* rounds may stop ending this long before we starve */
	bool ready;	       /* READY=1 sent */
	bool reloading;	       /* RELOADING=1 sent, READY=1 not yet */
	bool starving;	       /* said that we stopped pinging */
};

static void
sdnotify_send(const char *msg)
{
#ifdef MXF_HAVE_LIBSYSTEMD
	int rc = sd_notify(0, msg);

	if (rc < 0)
		log_debug("sd_notify: %s", strerror(-rc));
#else
	(void)msg;
#endif
}

static uint64_t
sdnotify_stall_ms(const struct config *cfg)
{
	return 2 * cfg->general.interval_ms + SDNOTIFY_STALL_MS;
}

/* The loop is alive: ping, unless rounds have stopped ending. */
static void
sdnotify_wd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sdnotify *sn = arg;
	uint64_t quiet = clock_mono_since_ms(sn->last_done_ms);

	(void)fd;
	(void)what;
	if (quiet > sn->stall_ms) {
		if (!sn->starving)
			log_err("no round has ended for %llu s: no longer pinging systemd's "
				"watchdog, which will restart the daemon",
				(unsigned long long)(quiet / 1000));
		sn->starving = true;
		return;
	}
	sdnotify_send("WATCHDOG=1");
}

struct sdnotify *
sdnotify_new(struct event_base *base, const struct config *cfg)
{
	struct sdnotify *sn = calloc(1, sizeof(*sn));

	if (sn == NULL)
		return NULL;
	sn->last_done_ms = clock_mono_ms();
	sn->stall_ms = sdnotify_stall_ms(cfg);
#ifdef MXF_HAVE_LIBSYSTEMD
	{
		uint64_t usec = 0;

		if (sd_watchdog_enabled(1, &usec) > 0 && usec > 0) {
			/* A third of the period: two pings may be lost or late. */
			uint64_t every_ms = usec / 3000 > 0 ? usec / 3000 : 1;
			struct timeval tv = clock_timeval(every_ms);

			sn->wd_usec = usec;
			sn->wd_ev = event_new(base, -1, EV_PERSIST, sdnotify_wd_cb, sn);
			if (sn->wd_ev == NULL || event_add(sn->wd_ev, &tv) != 0)
				log_warn("cannot start the watchdog timer; systemd's watchdog "
					 "is pinged only after each round");
			else
				log_debug("systemd watchdog %llu ms, pinged every %llu ms",
					  (unsigned long long)(usec / 1000),
					  (unsigned long long)every_ms);
		}
	}
#else
	(void)base;
#endif
	return sn;
}

void
sdnotify_round(struct sdnotify *sn, const struct config *cfg, const struct state *st)
{
	char line[STATUSLINE_MAX], msg[STATUSLINE_MAX + 64];

	if (sn == NULL)
		return;
	sn->last_done_ms = clock_mono_ms();
	if (sn->starving)
		log_info("a round ended again: pinging systemd's watchdog");
	sn->starving = false;
	statusline_format(cfg, st, clock_wall_ms(), line, sizeof(line));
	snprintf(msg, sizeof(msg), "%sSTATUS=%s\nWATCHDOG=1", sn->ready ? "" : "READY=1\n", line);
	sdnotify_send(msg);
	sn->ready = true;
}

void
sdnotify_reloading(struct sdnotify *sn)
{
	struct timespec ts;
	char msg[128];

	/* Before the first READY=1 systemd is still starting us: nothing to say. */
	if (sn == NULL || !sn->ready || sn->reloading)
		return;
	/* systemd >= 253 (Type=notify-reload) wants the time of the request,
	 * CLOCK_MONOTONIC in microseconds; older ones ignore the field. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull +
			 (unsigned long long)ts.tv_nsec / 1000);
	sdnotify_send(msg);
	sn->reloading = true;
}

void
sdnotify_reloaded(struct sdnotify *sn, const struct config *cfg)
{
	if (sn == NULL)
		return;
	sn->stall_ms = sdnotify_stall_ms(cfg);
	if (!sn->reloading)
		return;
	sn->reloading = false;
	sdnotify_send("READY=1\nSTATUS=configuration reloaded; next round running");
}

void
sdnotify_stopping(struct sdnotify *sn)
{
	if (sn != NULL)
		sdnotify_send("STOPPING=1\nSTATUS=stopping");
}

void
sdnotify_free(struct sdnotify *sn)
{
	if (sn == NULL)
		return;
	if (sn->wd_ev != NULL)
		event_free(sn->wd_ev);
	free(sn);
}
