/*
 * config_impl.h -- what the files of the configuration library share:
 * the native reader's parse context (config_ini.c reads the INI syntax,
 * config_key.c gives each key its meaning, config_quorum.c those of
 * [quorum], config.c validates the whole), and the helpers config.c offers
 * the readers and config_load.c.
 * Private to src/config/.  Calls go one way: config_load.c calls the two
 * readers (config_ini.c, seedconf.c), config_ini.c calls config_key.c and
 * config_quorum.c (and seedconf_is_section, to name a DNS_Failover section
 * in a native file), config_key.c calls config_quorum.c for the keys of
 * [quorum] and config_quorum.c calls config_key.c's value helpers, and all
 * of them call config.c, which calls none of them.
 */
#ifndef MXF_CONFIG_IMPL_H
#define MXF_CONFIG_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Most words in one list value (servers, zones, records, checks). */
#define CONFIG_MAX_LIST 4096

enum config_section_kind {
	SEC_NONE, SEC_GENERAL, SEC_DNS, SEC_NOTIFY, SEC_SERVER, SEC_GROUP, SEC_QUORUM, SEC_UNKNOWN,
};

/* Lines where keys were set, for errors found after the whole file is read. */
struct config_group_lines {
	int servers, zones, records, type;
	char **server_names;   /* as written; resolved after the whole file */
	size_t nserver_names;
	void *zone_set;        /* tsearch(3) tree of the group's zones (strings
				* owned by the group), for duplicates in O(log n):
				* a hosting group lists thousands */
};

/* [quorum]: where each key was set (0: not set), for the checks made once
 * the whole file is read (config_quorum_finish). */
struct config_quorum_lines {
	int id, monitors, need, zone, heartbeat, stale;
	bool monitors_bad;      /* a word of monitors was refused (and reported) */
	bool monitors_too_many; /* more than QUORUM_MONITORS_MAX, reported once */
};

struct config_seen_key {
	char *section;
	char *key;
	int line;
};

/* The state of reading one native file: config_ini.c's reader fields,
 * config_key.c's and config.c's handler fields. */
struct config_parse {
	const char *file;
	struct config *cfg;
	struct config_errors *errs;
	int oom;

	/* reader state */
	const char *text;
	size_t pos, len;
	int lineno;            /* physical line of what the reader last returned */
	const char *pending;   /* rest of an over-long line still to emit */
	size_t pending_len;
	int continuation;      /* the line just returned continues a value */
	char section[256];     /* section of the line just returned */
	int section_line;

	/* handler state */
	enum config_section_kind kind;
	long cur;              /* index of the current server or group */
	struct config_seen_key *seen;
	size_t nseen;
	struct config_group_lines *glines;
	int *server_checks_line;
	int witness_line;
	int fastinter_line;     /* [general] fastinter given here, 0 not */
	bool dns_server_given;  /* set, even if to a bad value: no "missing" error */
	bool dns_key_file_given; /* the same for [dns] key_file ([quorum] needs it) */
	struct config_quorum_lines qlines;
	bool *server_address_given;
	char last_key[64];
	int last_key_line;
	int has_dnsfailover_sections, has_native_sections;
};

/*
 * config_err -- report "FILE:LINE: message" for the file @p reads
 * (@line 0: the file as a whole).  Allocation failure sets p->oom.
 */
void config_err(struct config_parse *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * config_text_line -- the next physical line of @text (@len bytes) at
 * *@pos, without its '\n' or a '\r' before it.
 * @return the line's start with *@linelen its length, *@pos advanced past
 *         it; NULL at the end of the text.
 */
const char *config_text_line(const char *text, size_t len, size_t *pos, size_t *linelen);

/*
 * config_key -- (config_key.c) give one key = value of the section being read (p->kind,
 * p->cur) its meaning in the model; a bad value is reported at @line.
 * @key is lower-case; @value may be empty only for list keys.
 */
void config_key(struct config_parse *p, int line, const char *key, const char *value);

/*
 * config_key_names_of -- (config_key.c) the keys a section of @kind accepts,
 * the words "did you mean" picks from.
 * @return the array (static) with *@n its length; NULL with 0 for a kind
 *         without keys.
 */
const char *const *config_key_names_of(enum config_section_kind kind, size_t *n);

/* (config_key.c) @return whether @key of a section of @kind is a list, which may continue
 * on indented lines and be empty. */
bool config_key_is_list(enum config_section_kind kind, const char *key);

/* (config_key.c) Report @key as unknown in the section @where ("[general]"), with the
 * nearest key of the section being read (p->kind) when it looks like a typo of one. */
void config_key_unknown(struct config_parse *p, int line, const char *key, const char *where);

/*
 * config_set_duration -- (config_key.c) parse @value of @key as a duration into *@dst;
 * a bad one (or zero, unless @allow_zero) is reported at @line and leaves
 * *@dst as it was.
 */
void config_set_duration(struct config_parse *p, int line, const char *key, const char *value,
			 uint64_t *dst, int allow_zero);

/*
 * config_list_append -- (config_key.c) split a list value on white space and
 * commas, appending a copy of each word to *@v (*@n words).
 * @return 0, MXF_ETOOBIG past CONFIG_MAX_LIST words, or MXF_ENOMEM.
 */
int config_list_append(char ***v, size_t *n, const char *value);

/*
 * config_quorum_key -- (config_quorum.c) give one key = value of [quorum] its meaning,
 * as config_key does for the other sections; a bad value is reported at @line.
 */
void config_quorum_key(struct config_parse *p, int line, const char *key, const char *value);

/*
 * config_quorum_finish -- (config_quorum.c) once the whole file is read: the
 * defaults of [quorum] that depend on other settings (id from the host name,
 * need, heartbeat and stale from [general] interval) and the rules between
 * its keys and other sections (id among monitors, need at most their number,
 * a [dns] key_file, stale > heartbeat >= interval).  Nothing without a
 * [quorum] section.  Out of memory sets p->oom.
 */
void config_quorum_finish(struct config_parse *p);

/*
 * config_quorum_label -- (config_quorum.c) @n bytes at @s as a monitor id: a DNS label of
 * 1..63 letters, digits and '-', not starting or ending with '-'.
 * @return 0 with *@out a malloc'ed lower-case copy the caller frees;
 *         MXF_EINVAL (not a label) or MXF_ENOMEM, *@out NULL.
 */
int config_quorum_label(const char *s, size_t n, char **out);

/*
 * config_quorum_id_from_host -- (config_quorum.c) the default id of a monitor whose
 * host name is @host: up to its first dot, lower-cased.
 * @return as config_quorum_label (MXF_EINVAL when that is not a label).
 */
int config_quorum_id_from_host(const char *host, char **out);

/* Whole-file checks once every section is read: references between
 * sections, missing settings, check URLs expanded and validated. */
void config_validate(struct config_parse *p);

/*
 * config_overlap_check -- (config_overlap.c) report every record two groups
 * would both manage: the same absolute owner and type, or a CNAME at an
 * owner another group manages with any type.  Each is reported at the
 * records line of the later group, naming the earlier group and its line.
 * Out of memory sets p->oom.
 */
void config_overlap_check(struct config_parse *p);

/* Set the defaults that do not depend on other settings (before reading). */
void config_defaults(struct config *cfg);

/* Set the defaults derived from other settings (after reading).
 * @return 0 or MXF_ENOMEM. */
int config_fill_defaults(struct config *cfg);

/* asprintf: @return a malloc'ed string, or NULL when out of memory. */
char *config_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * config_grow -- make room for one more element, zeroed, at index @n of the
 * array @v of @n elements of @size bytes.
 * @return the (moved) array, or NULL when out of memory (@v is untouched).
 */
void *config_grow(void *v, size_t n, size_t size);

/* tsearch(3) comparison of two strings, and tdestroy(3)'s free function for
 * a tree whose strings are owned elsewhere (it frees nothing). */
int config_set_cmp(const void *a, const void *b);
void config_set_keep(void *s);

/*
 * config_strlist_add -- append @s, which the list then owns, to *@v (*@n
 * strings).  @s NULL counts as out of memory.
 * @return 0, or MXF_ENOMEM (then @s is freed).
 */
int config_strlist_add(char ***v, size_t *n, char *s);

/* Free @n strings of @v and @v itself. */
void config_strlist_free(char **v, size_t n);

/*
 * config_ini_load -- (config_ini.c) read native INI text into @cfg (allocated and
 * defaulted by the caller) and validate it.
 * @return 0 (errors, if any, are in @errs) or MXF_ENOMEM.
 */
int config_ini_load(const char *name, const char *text, size_t len, struct config *cfg,
		    struct config_errors *errs);

#endif
