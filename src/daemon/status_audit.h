/*
 * status_audit.h -- the background audit's findings (findings.h) on the
 * status endpoint: a section of the dashboard, the "audit" object of
 * /api/status and mxfailover_audit_* in /metrics.  status_http.c calls
 * each once; everything audit-shaped is here.  Pure: builds text only.
 */
#ifndef MXF_STATUS_AUDIT_H
#define MXF_STATUS_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "buf.h"
#include "findings.h"

/*
 * status_audit_json -- set @root's "audit": {"interval_ms", "enabled",
 * "runs", "last_ms" (null: never), "seconds", "checks", "running", "error"
 * (null: none), "counts": {"error", "warning", "info"}, "findings": [{"domain",
 * "id", "severity", "subject", "message", "hint", "since_ms"}]}.
 * @f NULL (no audit in this process): "enabled" false and nothing found.
 * Out of memory leaves "audit" out.
 */
void status_audit_json(json_t *root, const struct findings *f, uint64_t interval_ms);

/* status_audit_metrics -- mxfailover_audit_findings{severity="..."} for
 * each severity, mxfailover_audit_runs_total and
 * mxfailover_audit_last_run_seconds (when one ran). */
void status_audit_metrics(struct buf *b, const struct findings *f);

/* status_audit_html -- the dashboard's "Audit" section: the counts, the
 * last run, a table of the warnings and errors (then the infos). */
void status_audit_html(struct buf *b, const struct findings *f, uint64_t interval_ms);

#endif
