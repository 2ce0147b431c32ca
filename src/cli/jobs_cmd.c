/* SPDX-License-Identifier: MIT */
/*
 * jobs_cmd.c — `gantry job submit|list|show|stop|config|events|logs`: the job
 * commands that talk to the server (`job validate`, which does not, is in
 * job.c).
 *
 * A job is named "USER~NAME" as in OpenPAI's API; a bare NAME is the
 * logged-in user's job. Tables show times in local time; -o json prints the
 * server's own answer, unchanged but for indentation.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "spec/spec.h"

/* Job files are checked by the server; this bound only keeps a mistaken
 * argument (a disk image, /dev/zero) from being read into memory whole. */
#define SUBMIT_MAX (16u << 20)

static int read_input(const char *path, struct buf *b)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char chunk[65536];
	size_t n;
	if (!f) {
		fprintf(stderr, "gantry: %s: %s\n", path, strerror(errno));
		return CLI_FAIL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b->len <= SUBMIT_MAX)
		buf_append(b, chunk, n);
	int failed = ferror(f);
	if (f != stdin)
		fclose(f);
	if (failed || b->oom || b->len > SUBMIT_MAX) {
		fprintf(stderr, "gantry: %s: %s\n", path,
		        failed ? strerror(errno) : b->oom ? "out of memory" : "larger than 16 MiB; not a job file");
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* The job's name from its file, to report USER~NAME; NULL when it has none. */
static char *job_name(const struct buf *text)
{
	struct spec_job *job = spec_job_new();
	char *name = NULL;
	if (job && spec_yaml_load(job, text->data ? text->data : "", text->len) == 0) {
		const struct spec_value *v = spec_value_get(job->root, "name");
		if (v && v->type == SPEC_STRING)
			name = strdup(v->str);
	}
	spec_job_free(job);
	return name;
}

int cli_job_submit(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct client_args args = { NULL, true, 1, 1, "no job file given", CLIENT_NEED_TOKEN };
	struct client c;
	struct client_reply rep = { 0 };
	struct buf text = BUF_INIT;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)))
		goto out;
	if ((rc = read_input(argv[0], &text)))
		goto out;
	if ((rc = client_call(&c, "POST", "/api/v2/jobs", "text/yaml", text.data ? text.data : "", text.len, &rep)))
		goto out;
	if (c.json) {
		json_error_t je;
		json_t *o = json_loadb(rep.body.data ? rep.body.data : "", rep.body.len, 0, &je);
		if (o)
			client_print_json(o);
		else
			puts(buf_str(&rep.body));
		json_decref(o);
		goto out;
	}
	char *name = job_name(&text);
	const char *user = name ? client_user(&c) : NULL;
	if (name && user)
		printf("submitted %s~%s\n", user, name);
	else if (name)
		rc = CLI_FAIL;   /* submitted, but whose it is could not be told: client_user said why */
	else
		printf("submitted\n");
	free(name);
out:
	buf_fini(&rep.body);
	buf_fini(&text);
	client_close(&c);
	return rc;
}

/* A string member, or "-". */
static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : "-";
}

static bool is_count(const char *s)
{
	if (!*s || strlen(s) > 9)
		return false;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return atoi(s) > 0;
}

int cli_job_list(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *user = NULL, *vc = NULL, *state = NULL, *limit = NULL;
	bool all = false;
	const struct client_opt opts[] = {
		{ "--user", "-u", CLIENT_VALUE, &user },
		{ "--vc", NULL, CLIENT_VALUE, &vc },
		{ "--state", NULL, CLIENT_VALUE, &state },
		{ "--limit", "-n", CLIENT_VALUE, &limit },
		{ "--all", "-a", CLIENT_FLAG, &all },
		CLIENT_OPT_END,
	};
	const struct client_args args = { opts, true, 0, 0, NULL, CLIENT_NEED_TOKEN };
	struct client c;
	struct buf path = BUF_INIT;
	json_t *reply = NULL, *j;
	size_t i;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)))
		goto out;
	if (all && user) {
		rc = cli_usage_error(cmd, "--all and --user exclude each other");
		goto out;
	}
	if (limit && !is_count(limit)) {
		rc = cli_usage_error(cmd, "--limit must be a positive number (got '%s')", limit);
		goto out;
	}
	if (!user && !all && !(user = client_user(&c))) {
		rc = CLI_FAIL;
		goto out;
	}
	buf_puts(&path, "/api/v2/jobs");
	client_query(&c, &path, "username", user);
	client_query(&c, &path, "vc", vc);
	client_query(&c, &path, "state", state);
	client_query(&c, &path, "limit", limit);
	if ((rc = client_call_json(&c, "GET", buf_str(&path), NULL, &reply)))
		goto out;
	if (c.json) {
		client_print_json(reply);
		goto out;
	}
	struct client_table t;
	char when[64];
	client_table_init(&t, 7);
	client_table_row(&t, "NAME", "USER", "VC", "STATE", "GPUS", "TASKS", "SUBMITTED");
	json_array_foreach(reply, i, j) {
		client_table_add_json(&t, json_object_get(j, "name"));
		client_table_add_json(&t, json_object_get(j, "username"));
		client_table_add_json(&t, json_object_get(j, "virtualCluster"));
		client_table_add_json(&t, json_object_get(j, "state"));
		client_table_add_json(&t, json_object_get(j, "totalGpuNumber"));
		client_table_add_json(&t, json_object_get(j, "totalTaskNumber"));
		client_table_add(&t, client_time_ms(json_object_get(j, "submissionTime"), when, sizeof(when)));
	}
	client_table_print(&t, stdout);
	client_table_fini(&t);
out:
	json_decref(reply);
	buf_fini(&path);
	client_close(&c);
	return rc;
}

/* Start a command on one JOB argument: *path gets "/api/v2/jobs/USER~NAME"
 * and suffix. */
static int open_job(const struct cli_cmd *cmd, int argc, char **argv, bool output, struct client *c,
                    struct buf *path, const char *suffix, const struct client_opt *extra)
{
	const struct client_args args = { extra, output, 1, 1, "no job given (USER~NAME, or NAME for your own)",
	                                   CLIENT_NEED_TOKEN };
	struct buf id = BUF_INIT;
	int npos, rc;

	if ((rc = client_start(c, cmd, argc, argv, &args, &npos)) || (rc = client_job_id(c, argv[0], &id)))
		goto out;
	client_pathf(c, path, "/api/v2/jobs/%s", buf_str(&id));
	buf_puts(path, suffix);
out:
	buf_fini(&id);
	return rc;
}

int cli_job_show(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct client c;
	struct buf path = BUF_INIT;
	json_t *job = NULL;
	int rc;

	if ((rc = open_job(cmd, argc, argv, true, &c, &path, "", NULL)) ||
	    (rc = client_call_json(&c, "GET", buf_str(&path), NULL, &job)))
		goto out;
	if (c.json) {
		client_print_json(job);
		goto out;
	}
	json_t *st = json_object_get(job, "jobStatus");
	struct client_table t;
	char state[200], when[64], ecode[200];
	const char *sub = json_string_value(json_object_get(st, "subState"));
	snprintf(state, sizeof(state), "%s%s%s%s", jstr(st, "state"),
	         sub ? " (" : "", sub ? sub : "", sub ? ")" : "");
	json_t *code = json_object_get(st, "appExitCode");
	const char *phrase = json_string_value(json_object_get(json_object_get(st, "appExitSpec"), "phrase"));
	if (json_is_integer(code))
		snprintf(ecode, sizeof(ecode), "%lld%s%s%s", (long long)json_integer_value(code), phrase ? " (" : "",
		         phrase ? phrase : "", phrase ? ")" : "");
	else
		snprintf(ecode, sizeof(ecode), "-");

	struct buf id = BUF_INIT;
	buf_printf(&id, "%s~%s", jstr(st, "username"),
	           jstr(job, "name"));
	client_table_init(&t, 2);
	client_table_row(&t, "Job:", buf_str(&id));
	buf_fini(&id);
	client_table_row(&t, "State:", state);
	client_table_add(&t, "Virtual cluster:");
	client_table_add_json(&t, json_object_get(st, "virtualCluster"));
	client_table_add(&t, "Priority:");
	client_table_add_json(&t, json_object_get(job, "jobPriority"));
	client_table_row(&t, "Submitted:", client_time_ms(json_object_get(st, "submissionTime"), when, sizeof(when)));
	client_table_row(&t, "Launched:", client_time_ms(json_object_get(st, "launchedTime"), when, sizeof(when)));
	client_table_row(&t, "Completed:", client_time_ms(json_object_get(st, "completedTime"), when, sizeof(when)));
	client_table_add(&t, "Retries:");
	client_table_add_json(&t, json_object_get(st, "retries"));
	client_table_row(&t, "Exit code:", ecode);
	client_table_add(&t, "Tags:");
	client_table_add_json(&t, json_object_get(job, "tags"));
	client_table_print(&t, stdout);
	client_table_fini(&t);

	const char *role;
	json_t *tr, *task;
	size_t i;
	client_table_init(&t, 5);
	client_table_row(&t, "ROLE", "INDEX", "STATE", "NODE", "LEAF CELLS");
	json_object_foreach(json_object_get(job, "taskRoles"), role, tr) {
		json_array_foreach(json_object_get(tr, "taskStatuses"), i, task) {
			client_table_add(&t, role);
			client_table_add_json(&t, json_object_get(task, "taskIndex"));
			client_table_add_json(&t, json_object_get(task, "taskState"));
			client_table_add_json(&t, json_object_get(task, "containerNodeName"));
			client_table_add_json(&t, json_object_get(task, "leafCells"));
		}
	}
	putchar('\n');
	client_table_print(&t, stdout);
	client_table_fini(&t);
out:
	json_decref(job);
	buf_fini(&path);
	client_close(&c);
	return rc;
}

int cli_job_stop(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct client c;
	struct buf path = BUF_INIT;
	json_t *reply = NULL, *body = json_pack("{s:s}", "value", "STOP");
	int rc;

	if ((rc = open_job(cmd, argc, argv, true, &c, &path, "/executionType", NULL)) ||
	    (rc = client_call_json(&c, "PUT", buf_str(&path), body, &reply)))
		goto out;
	if (c.json) {
		client_print_json(reply);
	} else {
		/* the path holds the escaped id; say the one the user meant */
		struct buf id = BUF_INIT;
		client_job_id(&c, argv[0], &id);
		printf("stopped %s\n", buf_str(&id));
		buf_fini(&id);
	}
out:
	json_decref(body);
	json_decref(reply);
	buf_fini(&path);
	client_close(&c);
	return rc;
}

int cli_job_config(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct client c;
	struct client_reply rep = { 0 };
	struct buf path = BUF_INIT;
	int rc;

	if ((rc = open_job(cmd, argc, argv, false, &c, &path, "/config", NULL)) ||
	    (rc = client_call(&c, "GET", buf_str(&path), NULL, NULL, 0, &rep)))
		goto out;
	fwrite(rep.body.data ? rep.body.data : "", 1, rep.body.len, stdout);
	if (rep.body.len && rep.body.data[rep.body.len - 1] != '\n')
		putchar('\n');
out:
	buf_fini(&rep.body);
	buf_fini(&path);
	client_close(&c);
	return rc;
}

int cli_job_events(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct client c;
	struct buf path = BUF_INIT;
	json_t *reply = NULL;
	const char *type = NULL;
	const struct client_opt extra[] = { { "--type", NULL, CLIENT_VALUE, &type }, CLIENT_OPT_END };
	int rc;

	if ((rc = open_job(cmd, argc, argv, true, &c, &path, "/events", extra)))
		goto out;
	client_query(&c, &path, "type", type);
	if ((rc = client_call_json(&c, "GET", buf_str(&path), NULL, &reply)))
		goto out;
	if (c.json) {
		client_print_json(reply);
		goto out;
	}
	struct client_table t;
	char when[64];
	json_t *data = json_object_get(reply, "data");
	client_table_init(&t, 4);
	client_table_row(&t, "TIME", "TYPE", "REASON", "MESSAGE");
	/* the server sends the newest first, as OpenPAI does; a log reads oldest first */
	for (size_t i = json_array_size(data); i-- > 0;) {
		json_t *ev = json_array_get(data, i);
		client_table_add(&t, client_time_iso(json_string_value(json_object_get(ev, "lastTimestamp")), when,
		                                     sizeof(when)));
		client_table_add_json(&t, json_object_get(ev, "type"));
		client_table_add_json(&t, json_object_get(ev, "reason"));
		client_table_add_json(&t, json_object_get(ev, "message"));
	}
	client_table_print(&t, stdout);
	client_table_fini(&t);
out:
	json_decref(reply);
	buf_fini(&path);
	client_close(&c);
	return rc;
}

/* ---- logs ------------------------------------------------------------------------ */

static bool is_index(const char *s)
{
	return s && *s && strlen(s) <= 9 && strspn(s, "0123456789") == strlen(s);
}

static void on_interrupt(int sig)
{
	(void)sig;
	_exit(130);   /* every byte received is already written: nothing to flush */
}

/* A number of the job detail as text ("0" when it has none yet). */
static const char *num_or_zero(const json_t *v, char *out, size_t len)
{
	snprintf(out, len, "%lld", json_is_integer(v) ? (long long)json_integer_value(v) : 0LL);
	return out;
}

int cli_job_logs(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *role = NULL, *index = NULL, *attempt = NULL, *task_attempt = NULL;
	bool out = false, err = false, all = false, follow = false, tail = false;
	const struct client_opt extra[] = {
		{ "--role", NULL, CLIENT_VALUE, &role },
		{ "--index", NULL, CLIENT_VALUE, &index },
		{ "--attempt", NULL, CLIENT_VALUE, &attempt },
		{ "--task-attempt", NULL, CLIENT_VALUE, &task_attempt },
		{ "--stdout", NULL, CLIENT_FLAG, &out },
		{ "--stderr", NULL, CLIENT_FLAG, &err },
		{ "--all", NULL, CLIENT_FLAG, &all },
		{ "--follow", "-f", CLIENT_FLAG, &follow },
		{ "--tail", NULL, CLIENT_FLAG, &tail },
		CLIENT_OPT_END,
	};
	struct client c;
	struct buf path = BUF_INIT;
	json_t *job = NULL;
	char a_buf[32], i_buf[32], t_buf[32];
	int rc;

	if ((rc = open_job(cmd, argc, argv, false, &c, &path, "", extra)))
		goto out;
	if (out + err + all > 1) {
		rc = cli_usage_error(cmd, "--stdout, --stderr and --all exclude each other");
		goto out;
	}
	const char *opt_names[] = { "--index", "--attempt", "--task-attempt" };
	const char *opt_values[] = { index, attempt, task_attempt };
	for (int i = 0; i < 3; i++)
		if (opt_values[i] && !is_index(opt_values[i])) {
			rc = cli_usage_error(cmd, "%s must be a number >= 0 (got '%s')", opt_names[i], opt_values[i]);
			goto out;
		}
	if (!index)
		index = "0";
	/* what was not given comes from the job: its latest attempt, its first
	 * role, that task's latest attempt */
	if (!role || !attempt || !task_attempt) {
		if ((rc = client_call_json(&c, "GET", buf_str(&path), NULL, &job)))
			goto out;
		json_t *roles = json_object_get(job, "taskRoles");
		if (!role) {
			void *it = json_object_iter(roles);
			if (!it) {
				fprintf(stderr, "gantry: the job has no task roles to show the logs of\n");
				rc = CLI_FAIL;
				goto out;
			}
			role = json_object_iter_key(it);
		} else if (json_object_size(roles) && !json_object_get(roles, role)) {
			struct buf names = BUF_INIT;
			const char *k;
			json_t *v;
			json_object_foreach(roles, k, v)
				buf_printf(&names, "%s%s", names.len ? ", " : "", k);
			fprintf(stderr, "gantry: the job has no task role '%s' (it has: %s)\n", role, buf_str(&names));
			buf_fini(&names);
			rc = CLI_FAIL;
			goto out;
		}
		json_t *tasks = json_object_get(json_object_get(roles, role), "taskStatuses");
		json_t *task = json_array_get(tasks, (size_t)atoll(index));
		if (json_is_array(tasks) && !task) {
			fprintf(stderr, "gantry: task role '%s' has %zu task%s: no index %s\n", role, json_array_size(tasks),
			        json_array_size(tasks) == 1 ? "" : "s", index);
			rc = CLI_FAIL;
			goto out;
		}
		if (!attempt)
			attempt = num_or_zero(json_object_get(json_object_get(job, "jobStatus"), "attemptId"), a_buf,
			                      sizeof(a_buf));
		if (!task_attempt)
			task_attempt = num_or_zero(json_object_get(task, "attemptId"), t_buf, sizeof(t_buf));
	}
	snprintf(i_buf, sizeof(i_buf), "%lld", atoll(index));
	client_pathf(&c, &path, "/attempts/%s/taskRoles/%s/taskIndex/%s/attempts/%s/logs/%s", attempt, role, i_buf,
	             task_attempt, out ? "stdout" : err ? "stderr" : "all");
	if (tail)
		client_query(&c, &path, "tail-mode", "true");
	if (follow)
		client_query(&c, &path, "follow", "true");
	if (path.oom) {
		fprintf(stderr, "gantry: out of memory\n");
		rc = CLI_FAIL;
		goto out;
	}
	fflush(stdout);
	struct sigaction sa = { .sa_handler = on_interrupt };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	rc = client_stream(&c, buf_str(&path), "text/plain", STDOUT_FILENO);
out:
	json_decref(job);
	buf_fini(&path);
	client_close(&c);
	return rc;
}
