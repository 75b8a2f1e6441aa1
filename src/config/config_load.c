/*
 * config_load.c -- find the configuration file, read it, tell the two
 * formats apart and hand the text to the reader of its format: seedconf.c
 * for DNS_Failover's config.cfg, config_ini.c for the native INI format.
 * Neither reader calls back here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_impl.h"
#include "mxf.h"
#include "seedconf.h"

/* Larger than this is no configuration file. */
#define CONFIG_MAX_FILE (1024 * 1024)

/*
 * Put the errors from @from on in line order, so a file is fixed top to
 * bottom: the reader reports as it reads, the whole-file checks after it,
 * about lines anywhere.  Errors about the file as a whole (line 0) go
 * last; equal lines keep the order they were found in (a stable sort).
 */
static void
config_errors_sort(struct config_errors *errs, size_t from)
{
	for (size_t i = from + 1; i < errs->n; i++) {
		struct config_error e = errs->v[i];
		unsigned key = e.line > 0 ? (unsigned)e.line : (unsigned)-1;
		size_t j = i;

		for (; j > from; j--) {
			int pl = errs->v[j - 1].line;

			if ((pl > 0 ? (unsigned)pl : (unsigned)-1) <= key)
				break;
			errs->v[j] = errs->v[j - 1];
		}
		errs->v[j] = e;
	}
}

static int
config_load_text(const char *name, const char *text, size_t len, struct config **out,
		 struct config_errors *errs)
{
	struct config *cfg;
	size_t before = errs->n;
	int err;

	*out = NULL;
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL)
		return MXF_ENOMEM;
	config_defaults(cfg);
	cfg->path = strdup(name);
	if (cfg->path == NULL) {
		free(cfg);
		return MXF_ENOMEM;
	}
	if (memchr(text, '\0', len) != NULL) {
		config_errors_add(errs, name, 0, "file contains a NUL byte: not a text file");
		config_free(cfg);
		return MXF_ECONFIG;
	}
	if (seedconf_detect(text, len)) {
		cfg->format = CONFIG_FORMAT_DNSFAILOVER;
		err = seedconf_load(name, text, len, cfg, errs);
	} else {
		cfg->format = CONFIG_FORMAT_NATIVE;
		err = config_ini_load(name, text, len, cfg, errs);
	}
	config_errors_sort(errs, before);
	if (err == 0 && errs->n == before)
		err = config_fill_defaults(cfg);
	if (err == 0 && errs->n > before)
		err = MXF_ECONFIG;
	if (err != 0) {
		config_free(cfg);
		return err;
	}
	*out = cfg;
	return 0;
}

int
config_load_string(const char *name, const char *text, struct config **out,
		   struct config_errors *errs)
{
	return config_load_text(name, text, strlen(text), out, errs);
}

int
config_load(const char *path, struct config **out, struct config_errors *errs)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	*out = NULL;
	f = fopen(path, "re");
	if (f == NULL) {
		config_errors_add(errs, path, 0, "cannot open: %s", strerror(errno));
		return MXF_EIO;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		config_errors_add(errs, path, 0, "not a regular file");
		fclose(f);
		return MXF_EIO;
	}
	if (st.st_size > CONFIG_MAX_FILE) {
		config_errors_add(errs, path, 0, "larger than %d bytes: not a configuration file",
				  CONFIG_MAX_FILE);
		fclose(f);
		return MXF_ECONFIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		fclose(f);
		return MXF_ENOMEM;
	}
	len = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		config_errors_add(errs, path, 0, "read error: %s", strerror(errno));
		fclose(f);
		free(buf);
		return MXF_EIO;
	}
	fclose(f);
	buf[len] = '\0';
	err = config_load_text(path, buf, len, out, errs);
	free(buf);
	return err;
}

const char *
config_load_path(void)
{
	const char *env;

	env = getenv("MXFAILOVER_CONFIG");
	if (env != NULL && *env != '\0')
		return env;
	env = getenv("DNSFAILOVER_CONFIG");
	if (env != NULL && *env != '\0')
		return env;
	if (access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		return CONFIG_DEFAULT_PATH;
	if (access(CONFIG_DNSFAILOVER_PATH, F_OK) == 0)
		return CONFIG_DNSFAILOVER_PATH;
	return CONFIG_DEFAULT_PATH;
}
