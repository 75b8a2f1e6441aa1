/*
 * queue_read.h -- reading a backup MX's mail queue: `postqueue -j` run over
 * SSH ([server] queue = ssh://USER@HOST[:PORT]) with the system OpenSSH
 * client in batch mode with host key checking on, as the ssh-* checks run
 * it, on the event loop without blocking it; the output (at most
 * QUEUE_OUT_MAX bytes) is counted per zone by queue_parse().
 *
 * One queue_read is one run: started, then its callback is called exactly
 * once (unless it is freed first, which kills ssh).
 */
#ifndef MXF_QUEUE_READ_H
#define MXF_QUEUE_READ_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "queue_parse.h"

struct event_base;
struct queue_read;

/* The outcome of one read. */
struct queue_result {
	int rc;		 /* 0: the counts hold; else a negative MXF_E*:
			  * MXF_ECONNREFUSED/MXF_ENET/MXF_ETIMEDOUT (ssh),
			  * MXF_EPROTO (not postqueue -j output), ... */
	char error[300]; /* why, when rc != 0: ssh's or postqueue's words */
	struct queue_summary sum;
	struct queue_zone *zones; /* the zones asked for, counted (rc == 0) */
	size_t nzones;
	uint64_t took_ms;
};

/*
 * queue_read_fn -- the read ended.  @r is valid only during the call; the
 * callback may free the queue_read.
 */
typedef void (*queue_read_fn)(void *arg, const struct queue_result *r);

/*
 * queue_read_start -- run `postqueue -j` at @q on @base, counting for the
 * @nzones zones @zones (absolute names; copied), within @timeout_ms.
 * @out    the handle, freed with queue_read_free() (after or instead of @done).
 * @return 0 (@done is called later, from the loop), or a negative MXF_E*
 *         with @err saying why (ssh could not be started); then *@out is
 *         NULL and @done is never called.
 */
int queue_read_start(struct event_base *base, const struct config_queue *q, char *const *zones,
		     size_t nzones, uint64_t timeout_ms, queue_read_fn done, void *arg,
		     struct queue_read **out, char *err, size_t errsize);

/*
 * queue_read_server_zones -- the zones whose mail server @si's queue is
 * read for: those of every group the server is in, each once, in config
 * order.  Borrowed from @cfg; at most @max written.
 * @return how many were written.
 */
size_t queue_read_server_zones(const struct config *cfg, size_t si, char **zones, size_t max);

/* queue_read_free -- stop (kill ssh) and free; NULL is a no-op. */
void queue_read_free(struct queue_read *r);

/*
 * queue_read_ssh_error -- the code and words of a failed ssh run (exit
 * status 255) from its output: the line that says what is wrong
 * ("connect to host ... port 22: Connection refused", "Permission denied
 * (publickey).", a host key problem: the line that says which, then
 * "(Host key verification failed.)").  Pure; exposed for the unit tests.
 * @return MXF_ECONNREFUSED, MXF_ETIMEDOUT or MXF_ENET.
 */
int queue_read_ssh_error(const char *out, size_t len, char *err, size_t errsize);

#endif
