/* SPDX-License-Identifier: MIT */
/* `gantry job ...`: client commands about jobs. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/gerr.h"
#include "cli/cli.h"
#include "spec/spec.h"

/* Read a whole file (or stdin for "-") into b; at most max+1 bytes, so the
 * caller can tell "too large" without reading a huge file. */
static int read_file(const char *path, size_t max, struct buf *b, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char chunk[65536];
	size_t n;

	if (!f) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		buf_append(b, chunk, n);
		if (b->len > max)
			break;
	}
	int failed = ferror(f);
	if (f != stdin)
		fclose(f);
	if (failed) {
		snprintf(err, errlen, "cannot read: %s", strerror(errno));
		return -1;
	}
	if (b->oom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void print_diags(FILE *f, const char *file, const char *kind, const struct spec_diag *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (d[i].line)
			fprintf(f, "%s:%u:%u: %s: %s\n", file, d[i].line, d[i].col, kind, d[i].msg);
		else
			fprintf(f, "%s: %s: %s\n", file, kind, d[i].msg);
	}
}

int cli_job_validate(const struct cli_cmd *cmd, int argc, char **argv)
{
	bool json = false;
	const char *user = getenv("USER");
	int i, nfiles = 0, bad = 0;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--user")) {
			if (++i >= argc)
				return cli_usage_error(cmd, "option '--user' needs a value");
			user = argv[i];
		} else if (!strncmp(argv[i], "--user=", 7)) {
			user = argv[i] + 7;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
		} else {
			break;
		}
	}
	nfiles = argc - i;
	if (nfiles == 0)
		return cli_usage_error(cmd, "no job file given");
	for (int k = i; k < argc; k++)
		if (argv[k][0] == '-' && argv[k][1] != '\0' && strcmp(argv[k], "--"))
			return cli_usage_error(cmd, "options go before the files: '%s'", argv[k]);

	struct spec_job *job = spec_job_new();
	if (!job) {
		fprintf(stderr, "gantry: out of memory\n");
		return CLI_FAIL;
	}
	struct spec_opts opts = { .user = user && *user ? user : "anonymous", .cluster = NULL };
	for (; i < argc; i++) {
		const char *file = argv[i];
		const char *shown = strcmp(file, "-") ? file : "<stdin>";
		struct buf text = BUF_INIT;
		char err[256];

		if (read_file(file, SPEC_MAX_BYTES, &text, err, sizeof(err)) < 0) {
			printf("%s: error: %s\n", shown, err);
			bad++;
			buf_fini(&text);
			continue;
		}
		int rc = spec_job_load(job, buf_str(&text), text.len, &opts);
		buf_fini(&text);
		if (rc == GERR_NOMEM) {
			printf("%s: error: out of memory\n", shown);
			bad++;
			continue;
		}
		if (rc) {
			print_diags(stdout, shown, "error", job->diags, job->ndiags);
			bad++;
			continue;
		}
		print_diags(stderr, shown, "warning", job->warnings, job->nwarnings);
		if (json) {
			json_t *o = spec_job_to_json(job);
			char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
			json_decref(o);
			if (!s) {
				printf("%s: error: out of memory\n", shown);
				bad++;
				continue;
			}
			puts(s);
			free(s);
		} else {
			printf("%s: ok\n", shown);
		}
	}
	spec_job_free(job);
	return bad ? CLI_FAIL : CLI_OK;
}
