/* config.c -- placeholder while the loader is being written. */
#include <stdlib.h>
#include "config.h"
#include "mxf.h"
const char *config_find_path(void) { return CONFIG_DEFAULT_PATH; }
int config_load(const char *path, struct config **out, struct config_errors *errs)
{ (void)path; (void)errs; *out = NULL; return MXF_EUNSUPPORTED; }
void config_errors_free(struct config_errors *errs) { (void)errs; }
void config_free(struct config *cfg) { free(cfg); }
