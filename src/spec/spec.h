/* SPDX-License-Identifier: MIT */
/*
 * spec — OpenPAI job protocol v2: parse, validate, render, normalize.
 *
 * spec owns the meaning of a job file. It accepts and rejects exactly what
 * OpenPAI's rest-server accepts and rejects (the ajv schema it enforces, the
 * semantic checks that follow it, and the hived checks), with the same
 * messages, and turns an accepted file into a normalized model that the
 * scheduler, the controller and the runtime consume: task roles with their
 * resources, ports, completion policy, retry policy and rendered entrypoint.
 *
 * Pure: no I/O, no clock, no globals; every allocation comes from the job's
 * own arena. Any thread may use its own struct spec_job. Nothing a file
 * contains can make it abort: bad input becomes diagnostics.
 *
 * Secrets: the `secrets` block is parsed so templates can be checked, but no
 * rendered field and no output of this module contains a secret value.
 * Entrypoints keep `<% $secrets.x %>` verbatim for the runtime to fill in, as
 * OpenPAI does.
 *
 * Usage:
 *     struct spec_job *job = spec_job_new();
 *     int rc = spec_job_load(job, text, len, &opts);
 *     if (rc == GERR_PROTOCOL) for each job->diags[i] ... print
 *     ... read job->roles ...
 *     spec_job_free(job);
 */
#ifndef GANTRY_SPEC_SPEC_H
#define GANTRY_SPEC_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"

/* Input limits (rejected with a clear message). */
#define SPEC_MAX_BYTES      (1u << 20)   /* 1 MiB */
#define SPEC_MAX_INSTANCES  10000        /* per task role; FrameworkController's cap */
#define SPEC_MAX_DEPTH      64           /* nesting of mappings and sequences */
#define SPEC_MAX_NODES      1000000      /* after alias expansion */

#define SPEC_SECRET_MASK    "******"

/* ---- the parsed document: a JavaScript-like value tree ------------------ */

enum spec_vtype {
	SPEC_NULL,
	SPEC_BOOL,
	SPEC_NUMBER,    /* a JS number (double) */
	SPEC_STRING,
	SPEC_ARRAY,
	SPEC_OBJECT,    /* keys in JavaScript property order */
	SPEC_DATE,      /* YAML timestamp; str holds the text, num the epoch ms */
	SPEC_BINARY,    /* !!binary; str holds the decoded bytes */
};

struct spec_member;

struct spec_value {
	enum spec_vtype type;
	unsigned line, col;          /* 1-based position of the node */
	bool b;
	double num;
	const char *str;             /* NUL-terminated; may contain NULs (see len) */
	size_t len;
	struct spec_value **items;   /* SPEC_ARRAY */
	struct spec_member *members; /* SPEC_OBJECT */
	size_t n;                    /* number of items or members */
	size_t weight;               /* private: nodes below, aliases expanded */
};

struct spec_member {
	const char *key;
	size_t klen;
	unsigned line, col;          /* position of the key */
	struct spec_value *val;
};

/* Member `key` of an object, or NULL (also when v is not an object). */
const struct spec_value *spec_value_get(const struct spec_value *v, const char *key);

/* ---- what the cluster tells the validator (optional) -------------------- */

struct spec_sku {
	const char *name;
	double gpu, cpu, memory_mb;  /* per leaf cell */
};

/* SKU types and, for the job's virtual cluster, what it may use. When the
 * validator has no cluster, the checks that need one (known SKU, quota) are
 * skipped and the leaf cell numbers are left at -1. */
struct spec_cluster {
	const struct spec_sku *skus;
	size_t nskus;
	/* Look up a virtual cluster: fill the SKU names its cells use and its
	 * guaranteed leaf cell count; return false if the VC is unknown (then
	 * OpenPAI's fallback applies: every SKU, unlimited quota). */
	bool (*vc_lookup)(void *ctx, const char *vc, const char ***sku_names,
	                  size_t *nsku_names, int64_t *quota);
	void *ctx;
};

struct spec_opts {
	const char *user;                    /* submitter; affinity group names; may be NULL */
	const struct spec_cluster *cluster;  /* may be NULL */
};

/* ---- the normalized job -------------------------------------------------- */

enum spec_prereq_type { SPEC_PREREQ_SCRIPT, SPEC_PREREQ_OUTPUT, SPEC_PREREQ_DATA, SPEC_PREREQ_DOCKERIMAGE };

struct spec_prereq {
	enum spec_prereq_type type;
	const char *name;
	const char *uri;              /* script, output, dockerimage; NULL if absent */
	const char **uris;            /* data */
	size_t nuris;
	const char *plugin;           /* e.g. com.microsoft.pai.runtimeplugin.cmd, or NULL */
	const char *failure_policy;   /* "fail" (default) or "ignore" */
	bool has_auth;                /* dockerimage: registry credentials given */
	const char *auth_username;    /* rendered; never printed */
	const char *auth_password;    /* rendered; never printed */
	const char *auth_registryuri; /* rendered */
	unsigned auth_secret;         /* bit per field above that took a $secrets value */
	const struct spec_value *raw; /* the item as written */
};

struct spec_retry {
	bool fancy;                   /* fancyRetryPolicy */
	int64_t max;                  /* maxRetryCount */
};

struct spec_port {
	const char *label;
	int64_t count;
};

struct spec_role {
	const char *name;             /* as written in taskRoles */
	const char *fc_name;          /* OpenPAI's convertName: lowercase, [a-z0-9] only */
	int64_t instances;            /* default 1 */
	int64_t min_failed;           /* completion, after OpenPAI's defaulting */
	int64_t min_succeeded;
	int64_t task_retry_count;     /* as written (0 when absent) */
	struct spec_retry task_retry; /* effective: gang jobs never retry tasks */
	int64_t cpu, memory_mb, gpu;
	struct spec_port *ports;      /* user ports, then ssh and http when absent */
	size_t nports;
	int64_t shm_mb;               /* extraContainerOptions.shmMB, default 512 */
	bool infiniband;
	const struct spec_prereq *image;   /* the dockerimage prerequisite */
	const struct spec_prereq *script, *data, *output;  /* or NULL */
	const struct spec_prereq **prereqs; /* taskRoles.<r>.prerequisites, in order */
	size_t nprereqs;
	const char *entrypoint;       /* rendered commands (pre + commands + post) */
	/* hived */
	const char *sku_type;         /* or NULL */
	const char *pinned_cell_id;   /* or NULL */
	const char *affinity_group;   /* full name "<user>~<job>/<group>", or NULL */
	int64_t leaf_cell_number;     /* -1 when no cluster was given */
	const struct spec_value *raw;
};

struct spec_storage {
	const char *name;
	const char *mount_path;       /* default /mnt/<name> */
	bool share;                   /* default true */
	bool read_only;               /* default false */
};

struct spec_plugin {
	const char *plugin;           /* "ssh", "cmd", ... */
	const char *failure_policy;   /* "fail" or "ignore" */
	const char **task_roles;      /* NULL: every role */
	size_t ntask_roles;
	const struct spec_value *parameters;  /* unrendered: $secrets are filled at run time */
};

struct spec_diag {
	unsigned line, col;           /* 1-based; 0 when the message has no position */
	const char *msg;
};

struct spec_job {
	/* read-only after spec_job_load */
	const char *name;
	const char *version;          /* as text ("1" for 1.0, as OpenPAI), or NULL */
	const char *contributor, *description;
	const char *virtual_cluster;  /* defaults.virtualCluster, "default" */
	const char *default_deployment;
	int64_t job_retry_count;
	struct spec_retry retry;      /* framework retry policy */
	bool gang;                    /* extras.gangAllocation, default true */
	const char *priority_class;   /* "prod" | "test" | "oppo" */
	int priority;                 /* 100 | 10 | -1 */
	bool gang_release, lazy_preemption;
	int64_t total_gpu;            /* Σ gpu × instances */
	int64_t total_tasks;

	struct spec_role *roles;
	size_t nroles;
	struct spec_prereq *prereqs;
	size_t nprereqs;
	struct spec_storage *storages;
	size_t nstorages;
	bool storages_default;        /* extras.storages: [] — every default storage */
	struct spec_plugin *plugins;
	size_t nplugins;

	const struct spec_value *root;       /* the document */
	const struct spec_value *parameters; /* or NULL */
	const struct spec_value *extras;     /* or NULL */
	bool has_secrets;

	struct spec_diag *diags;      /* errors; non-empty iff load failed */
	size_t ndiags;
	struct spec_diag *warnings;   /* accepted, but worth telling the user */
	size_t nwarnings;

	/* private */
	struct arena arena;
	const char *text;             /* copy of the input */
	size_t text_len;
	size_t secrets_start, secrets_end;  /* byte span of the secrets value */
	size_t ndiags_cap, nwarnings_cap;
	void *scratch;
};

/* Returns owned memory (spec_job_free), or NULL when out of memory. */
struct spec_job *spec_job_new(void);
void spec_job_free(struct spec_job *job);

/*
 * Parse, validate, render and normalize text[0..len) (borrowed; copied).
 * Returns 0 when the job is valid, GERR_PROTOCOL (diagnostics in job->diags,
 * every schema error as OpenPAI reports them, or the first semantic error),
 * GERR_TOO_LARGE (a limit above), or GERR_NOMEM. A job may be loaded again:
 * each load forgets the previous one and reuses its memory. A leading UTF-8
 * byte-order mark is dropped, as js-yaml does (also by spec_yaml_load);
 * positions and job->text start after it.
 */
int spec_job_load(struct spec_job *job, const char *text, size_t len, const struct spec_opts *opts);

/*
 * Parse text[0..len) as YAML (or JSON) only, with the same reader and the
 * same js-yaml semantics as job files, but no job checks and no size limit:
 * for config files. The tree is job->root; errors are in job->diags.
 * Returns 0, GERR_PROTOCOL, GERR_TOO_LARGE (depth, aliases) or GERR_NOMEM.
 */
int spec_yaml_load(struct spec_job *job, const char *text, size_t len);

/* The file as submitted with the top-level secrets value replaced by
 * "******" (what OpenPAI stores as the job config). Arena memory. */
const char *spec_job_masked_config(struct spec_job *job);

/* The normalized job as JSON (secrets masked): a jansson object, owned by
 * the caller (json_decref), or NULL when out of memory. */
struct json_t *spec_job_to_json(const struct spec_job *job);
/* A value as JSON (NaN and Infinity become null, dates ISO strings). */
struct json_t *spec_value_to_json(const struct spec_value *v);

/* convertName: lowercase and drop everything outside [a-z0-9]. Arena memory. */
char *spec_convert_name(struct arena *a, const char *name);

/* OpenPAI priority class → hived priority (crit 120, prod 100, test 10, oppo -1). */
int spec_priority_of(const char *priority_class);

#endif
