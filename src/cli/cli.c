/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <string.h>

#include "cli/cli.h"

static int cmd_version(const struct cli_cmd *cmd, int argc, char **argv);
static int cmd_help(const struct cli_cmd *cmd, int argc, char **argv);

static const struct cli_cmd COMMANDS[] = {
	{ "job validate", "[--json] [--user NAME] FILE...",
	  "check OpenPAI job protocol v2 files exactly as OpenPAI does",
	  "Checks each FILE (or - for standard input) against OpenPAI's job protocol v2:\n"
	  "the schema rest-server enforces, its reference checks, template rendering and\n"
	  "the hived checks. Prints \"FILE: ok\", or each error as\n"
	  "\"FILE:LINE:COL: error: MESSAGE\" (\"FILE: error: MESSAGE\" without a position).\n"
	  "Exits 0 only if every file is valid.\n"
	  "\n"
	  "  --json        print each valid job, normalized and rendered, as JSON\n"
	  "                (secrets are masked)\n"
	  "  --user NAME   the submitting user, for affinity group names (default $USER)\n",
	  cli_job_validate },
	{ "login", "[--server URL] [--user NAME] [--password-stdin]",
	  "log in to a Gantry server and save the token",
	  "Asks the server for a token (POST /api/v2/authn/basic/login) and saves\n"
	  "{server, user, token, admin} in $XDG_CONFIG_HOME/gantry/config.json (else\n"
	  "~/.config/gantry/config.json), mode 0600. The other client commands use it.\n"
	  "The password is asked on the terminal without echo.\n"
	  "\n"
	  "  --server URL       the server (default $GANTRY_SERVER, then the saved one,\n"
	  "                     then http://127.0.0.1:9186); HOST:PORT means http://\n"
	  "  --user NAME        who (default: the user saved for that server, then $USER)\n"
	  "  --password-stdin   read the password from the first line of standard input\n",
	  cli_login },
	{ "logout", "[--server URL]", "revoke the saved token and forget it",
	  "Revokes the saved token on the server (DELETE /api/v2/authn/basic/logout) and\n"
	  "removes it from the config file. The token is removed even when the server\n"
	  "cannot be reached; then the command says so and exits 1.\n\n"
	  "  --server URL      the server to log out of (default: the saved one)\n",
	  cli_logout },
	{ "job submit", "[-o json] FILE",
	  "submit a job protocol v2 file (- for standard input)",
	  "Sends FILE to the server (POST /api/v2/jobs) and prints \"submitted USER~NAME\".\n"
	  "The server checks the file as 'gantry job validate' does, plus the cluster:\n"
	  "its errors are printed with their line:column.\n"
	  "\n"
	  "  -o, --output json   print the server's answer\n"
	  "  --server URL        another server than the one logged in to\n"
	  "                      (the token must then come from $GANTRY_TOKEN)\n",
	  cli_job_submit },
	{ "job list", "[--user U | --all] [--vc V] [--state S] [--limit N] [-o json]",
	  "list jobs, newest first",
	  "Lists your jobs by default: NAME, USER, VC, STATE, GPUS, TASKS and SUBMITTED\n"
	  "(local time), in the server's order (newest first).\n"
	  "\n"
	  "  --user U          U's jobs (U1,U2 for several)\n"
	  "  -a, --all         every user's jobs\n"
	  "  --vc V            only in virtual cluster V (V1,V2 for several)\n"
	  "  --state S         only in state S: WAITING, RUNNING, STOPPING, STOPPED,\n"
	  "                    SUCCEEDED, FAILED (S1,S2 for several)\n"
	  "  -n, --limit N     at most N jobs\n"
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server\n",
	  cli_job_list },
	{ "job show", "[-o json] JOB",
	  "show a job and where its tasks are placed",
	  "JOB is USER~NAME, or NAME for one of your own. Prints the job's state and\n"
	  "times, then one row per task: ROLE, INDEX, STATE, NODE, LEAF CELLS.\n"
	  "\n"
	  "  -o, --output json the server's JSON (OpenPAI's job detail)\n"
	  "  --server URL      another server\n",
	  cli_job_show },
	{ "job stop", "[-o json] JOB", "stop a job",
	  "JOB is USER~NAME, or NAME for one of your own. Returns once the server has\n"
	  "recorded the decision (PUT /api/v2/jobs/JOB/executionType STOP).\n"
	  "\n"
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server\n",
	  cli_job_stop },
	{ "job config", "JOB", "print the job file as it was submitted",
	  "JOB is USER~NAME, or NAME for one of your own. Secrets are masked by the\n"
	  "server.\n"
	  "\n"
	  "  --server URL      another server\n",
	  cli_job_config },
	{ "job events", "[--type Normal|Warning] [-o json] JOB",
	  "show what happened to a job, oldest first",
	  "JOB is USER~NAME, or NAME for one of your own. Prints TIME (local), TYPE,\n"
	  "REASON and MESSAGE: submission, placement, preemption, stop...\n"
	  "\n"
	  "  --type T          only Normal or only Warning events\n"
	  "  -o, --output json the server's JSON (newest first, as OpenPAI sends it)\n"
	  "  --server URL      another server\n",
	  cli_job_events },
	{ "job logs", "[--role R] [--index I] [--attempt A] [--task-attempt T] [--stdout|--stderr|--all] [-f] [--tail] JOB",
	  "print a task's log, or follow it as it grows",
	  "JOB is USER~NAME, or NAME for one of your own. Prints the log of one task\n"
	  "attempt as the server has it (stdout and stderr interleaved by default),\n"
	  "from GET .../attempts/A/taskRoles/R/taskIndex/I/attempts/T/logs/NAME.\n"
	  "\n"
	  "  --role R          the task role (default: the job's first)\n"
	  "  --index I         the task's index in its role (default 0)\n"
	  "  --attempt A       the job attempt (default: the latest)\n"
	  "  --task-attempt T  the task's attempt (default: its latest)\n"
	  "  --stdout          only what the task wrote on standard output\n"
	  "  --stderr          only what it wrote on standard error\n"
	  "  --all             both, interleaved as written (the default)\n"
	  "  -f, --follow      keep printing as the task writes, until it ends\n"
	  "                    (Ctrl-C stops following)\n"
	  "  --tail            only the last 16 KiB (with -f: then follow)\n"
	  "  --server URL      another server\n",
	  cli_job_logs },
	{ "user list", "[-o json]", "list users", "Prints USER, ADMIN, VIRTUAL CLUSTERS, GROUPS and EMAIL.\n\n"
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_user_list },
	{ "user show", "[-o json] NAME", "show a user's groups and virtual clusters",
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_user_show },
	{ "user create", "[--password-stdin] [--admin] [--vc VC]... [--email E] NAME",
	  "create a user (admins)",
	  "The password is asked twice on the terminal, or read from the first line of\n"
	  "standard input with --password-stdin.\n"
	  "\n"
	  "  --admin           the user is an administrator\n"
	  "  --vc VC           grant virtual cluster VC (repeat for more; default is\n"
	  "                    always granted)\n"
	  "  --email E         the user's email address\n"
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server\n",
	  cli_user_create },
	{ "user delete", "[-o json] NAME", "delete a user (admins)",
	  "The server refuses to delete an administrator.\n\n"
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_user_delete },
	{ "user passwd", "[--password-stdin] [NAME]", "change a password",
	  "Changes NAME's password (default: yours). Your own needs the current one\n"
	  "too; an admin resets other users' without it. The server then ends the\n"
	  "user's login sessions (application tokens stay valid).\n"
	  "\n"
	  "  --password-stdin  read the passwords from standard input: the current one\n"
	  "                    on the first line (your own only), then the new one\n"
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_user_passwd },
	{ "user set-vcs", "[-o json] NAME VC...", "set the virtual clusters a user may use (admins)",
	  "Replaces NAME's virtual clusters with the ones given; default always stays.\n\n"
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_user_set_vcs },
	{ "user set-admin", "[-o json] NAME yes|no", "give or take a user's admin rights (admins)",
	  "Adds NAME to the admin group (yes) or removes them from it (no). Admins\n"
	  "cannot remove their own rights.\n\n"
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_user_set_admin },
	{ "group list", "[-o json]", "list groups and the rights they carry",
	  "Prints GROUP, ADMIN, VIRTUAL CLUSTERS and DESCRIPTION.\n\n"
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_group_list },
	{ "group show", "[-o json] NAME", "show a group (and its members, for admins)",
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_group_show },
	{ "group create", "[--admin] [--vc VC]... [--description D] [-o json] NAME",
	  "create a group (admins)",
	  "Members of the group get its rights: --admin makes them administrators,\n"
	  "--vc VC (repeatable) lets them use virtual cluster VC.\n\n"
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_group_create },
	{ "group delete", "[-o json] NAME", "delete a group (admins)",
	  "The built-in groups (admingroup, default) cannot be deleted.\n\n"
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_group_delete },
	{ "vc list", "[-o json]", "list virtual clusters: quota, use, queue",
	  "Prints each VC's share of the cluster (CAPACITY) and of it in use (USED),\n"
	  "its quota in leaf cells and how many are in use (opportunistic ones too),\n"
	  "and its jobs waiting and placed.\n\n"
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_vc_list },
	{ "vc show", "[-o json] NAME", "show every figure of a virtual cluster",
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_vc_show },
	{ "node list", "[-o json]", "list nodes: health and leaf cells in use",
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_node_list },
	{ "token list", "[-o json]", "list your tokens by revocation handle",
	  "Shows each token's handle (sha256:...), never the token, and which one this\n"
	  "session uses.\n\n"
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_token_list },
	{ "token create", "[-o json]", "create an application token and print it",
	  "Prints a new application token (no expiry) for scripts and tools: the only\n"
	  "time it is shown. Use it as GANTRY_TOKEN=... or as a Bearer token.\n\n"
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_token_create },
	{ "token revoke", "[-o json] TOKEN", "revoke a token (by its handle or itself)",
	  "TOKEN is a handle from 'gantry token list' or the token itself (hashed here,\n"
	  "so it never travels in a URL).\n\n"
	  "  -o, --output json the server's JSON\n"
	  "  --server URL      another server than the one logged in to\n",
	  cli_token_revoke },
	{ "server", "[--data DIR] [--listen ADDR:PORT] [--config FILE] [--web DIR] [--ports A-B] [--stop-grace S] [--quiet]",
	  "run the Gantry server (REST API v2, scheduler, store)",
	  "Runs until SIGTERM or SIGINT, then stops gracefully (in-flight requests\n"
	  "finish, the store is closed cleanly).\n"
	  "\n"
	  "  --data DIR          the data directory (default $GANTRY_DATA or ./var): the\n"
	  "                      SQLite store, the first admin password, logs\n"
	  "  --listen ADDR:PORT  where to serve HTTP (default 127.0.0.1:9186; port 0\n"
	  "                      picks a free one, written to DIR/listen)\n"
	  "  --config FILE       a cluster file: HiveD's physicalCluster and\n"
	  "                      virtualClusters, OpenPAI's skuTypes, Gantry's nodes.\n"
	  "                      Without it this machine is the only node and one\n"
	  "                      virtual cluster, default, holds it all.\n"
	  "  --web DIR           the web portal's built files, served at / (default\n"
	  "                      $GANTRY_WEB, else web/dist of the source tree the\n"
	  "                      binary was built in); without them, the API only\n"
	  "  --ports A-B         tasks' host ports come from A..B-1 (default 15000-40000,\n"
	  "                      OpenPAI's); never two live tasks on one port\n"
	  "  --stop-grace S      seconds between SIGTERM and SIGKILL when a job is stopped\n"
	  "                      (default $GANTRY_STOP_GRACE, else 30)\n"
	  "  --quiet             no line per request in the log\n"
	  "\n"
	  "On first start the user admin is created with the password in\n"
	  "$GANTRY_ADMIN_PASSWORD, or a random one printed once and saved in\n"
	  "DIR/admin-password (mode 0600).\n",
	  cli_server },
	{ "sim replay", "[--verbose] [--strict] [--no-check] FILE...",
	  "replay HiveD scheduling scenarios and check every expectation",
	  "Replays scenario files in the format of tests/data/hived/hived-cases.json\n"
	  "(its \"format\" key defines every op and expectation) against the scheduler.\n"
	  "Prints \"PASS name\" or \"FAIL name: step N: expected ... got ...\" per case, then\n"
	  "\"N passed, N failed\" over the steps that assert something. Exits 0 only if\n"
	  "every case passes.\n"
	  "\n"
	  "  --verbose     print every scheduling decision and every failure\n"
	  "  --strict      also compare what HiveD was observed doing (\"observed\"):\n"
	  "                decisions, bind infos, every victim, groups after each step\n"
	  "  --no-check    skip the scheduler's internal consistency checks (faster)\n",
	  cli_sim_replay },
	{ "sim run", "--config FILE --trace FILE [--json] [--until SEC]",
	  "simulate a job trace on a cluster: queueing, utilization, preemptions",
	  "Replays a job trace on a cluster config (HiveD config plus skuTypes, YAML or\n"
	  "JSON) in simulated time and reports, per virtual cluster, the queueing delay\n"
	  "(p50, p95), GPU utilization, preemptions and the jobs that could never fit:\n"
	  "what happens if the quotas change.\n"
	  "\n"
	  "The trace is CSV with a header naming at least: submit (seconds), duration\n"
	  "(seconds), vc, priority, instances, gpu (GPUs per instance). Optional columns:\n"
	  "name, cpu, memory (MB), sku, pinned (a pinned cell id).\n"
	  "\n"
	  "  --config FILE  the cluster (see docs/admin/scheduler.md)\n"
	  "  --trace FILE   the jobs\n"
	  "  --json         print the report as JSON\n"
	  "  --until SEC    stop the simulation at this time\n",
	  cli_sim_run },
	{ "doctor", "[-o json]", "show what this machine offers tasks: cgroups, limits, sandbox, GPUs",
	  "Prints what the local executor detects, as the server does at start: the\n"
	  "cgroup version, whether memoryMB and cpu are enforced and where task cgroups\n"
	  "go, whether a task's whole process tree can be killed, bubblewrap, a working\n"
	  "container engine (podman, docker; without one tasks run on the host) and the\n"
	  "GPUs NVML reports. Always exits 0: a missing feature is reported, not an error.\n"
	  "\n"
	  "  -o, --output json  the same as JSON\n",
	  cli_doctor },
	{ "shim", "", "supervise one task (started by the server, not by people)",
	  "The server's local executor runs one shim per task attempt; it reads its\n"
	  "launch description on standard input. See docs/admin/executor.md.\n",
	  cli_shim },
	{ "version", "", "print the version and the commit it was built from", NULL, cmd_version },
	{ "help", "[COMMAND]", "show help for gantry or for one command", NULL, cmd_help },
};
#define NCOMMANDS (sizeof(COMMANDS) / sizeof(COMMANDS[0]))

/* "  name args    summary", the summary on its own line when the head is long */
static void print_row(FILE *f, const struct cli_cmd *c)
{
	char head[128];
	snprintf(head, sizeof(head), "%s%s%s", c->name, *c->args ? " " : "", c->args);
	if (strlen(head) > 30)
		fprintf(f, "  %s\n  %-30s %s\n", head, "", c->summary);
	else
		fprintf(f, "  %-30s %s\n", head, c->summary);
}

static void print_main_usage(FILE *f)
{
	fprintf(f, "usage: gantry <command> [<args>]\n\n"
	           "Gantry shares a GPU cluster among teams: OpenPAI job protocol, API and tools,\n"
	           "HiveD scheduling, on one box or on Slurm.\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		print_row(f, &COMMANDS[i]);
	fprintf(f, "\nRun 'gantry <command> --help' for a command's options.\n");
}

void cli_print_usage(FILE *f, const struct cli_cmd *cmd)
{
	fprintf(f, "usage: gantry %s%s%s\n", cmd->name, *cmd->args ? " " : "", cmd->args);
}

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "gantry %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cli_print_usage(stderr, cmd);
	return CLI_USAGE;
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}

static void print_help(const struct cli_cmd *cmd)
{
	cli_print_usage(stdout, cmd);
	printf("\n%s\n", cmd->summary);
	if (cmd->help)
		printf("\n%s", cmd->help);
}

/* How many argv words name a command ("job validate" is two). */
static size_t name_words(const char *name)
{
	size_t n = 1;
	for (; *name; name++)
		n += *name == ' ';
	return n;
}

/* The command named by argv, longest match first; *used gets its words. */
static const struct cli_cmd *lookup(int argc, char **argv, int *used, int *group)
{
	const struct cli_cmd *best = NULL;
	*group = 0;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		size_t words = name_words(COMMANDS[i].name);
		const char *p = COMMANDS[i].name;
		size_t w = 0;
		for (; w < words && (int)w < argc; w++) {
			size_t len = strcspn(p, " ");
			if (strlen(argv[w]) != len || strncmp(argv[w], p, len))
				break;
			p += len + (p[len] == ' ');
		}
		if (w == words && (!best || words > name_words(best->name))) {
			best = &COMMANDS[i];
			*used = (int)words;
		} else if (w >= 1 && words > 1) {
			*group = 1;   /* argv[0] names a command group */
		}
	}
	return best;
}

static int cmd_version(const struct cli_cmd *cmd, int argc, char **argv)
{
	(void)argv;
	if (argc > 0)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[0]);
	printf("gantry %s (commit %s)\n", gantry_version, gantry_commit);
	return CLI_OK;
}

static void print_group(FILE *f, const char *group)
{
	fprintf(f, "usage: gantry %s <command> [<args>]\n\nCommands:\n", group);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		size_t len = strlen(group);
		if (!strncmp(COMMANDS[i].name, group, len) && COMMANDS[i].name[len] == ' ')
			print_row(f, &COMMANDS[i]);
	}
}

static int cmd_help(const struct cli_cmd *cmd, int argc, char **argv)
{
	int used, group;
	if (argc == 0) {
		print_main_usage(stdout);
		return CLI_OK;
	}
	const struct cli_cmd *c = lookup(argc, argv, &used, &group);
	if (c && used == argc) {
		print_help(c);
		return CLI_OK;
	}
	if (!c && group && argc == 1) {
		print_group(stdout, argv[0]);
		return CLI_OK;
	}
	return cli_usage_error(cmd, "unknown command '%s'", argv[0]);
}

int cli_main(int argc, char **argv)
{
	int used, group;

	if (argc < 2) {
		print_main_usage(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		print_main_usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		char version[] = "version";
		return cli_main(2, (char *[]){ argv[0], version, NULL });
	}
	const struct cli_cmd *c = lookup(argc - 1, argv + 1, &used, &group);
	if (!c) {
		if (group) {
			if (argc == 2 || cli_wants_help(argc - 2, argv + 2)) {
				print_group(argc == 2 ? stderr : stdout, argv[1]);
				return argc == 2 ? CLI_USAGE : CLI_OK;
			}
			fprintf(stderr, "gantry %s: unknown command '%s'\n", argv[1], argv[2]);
			print_group(stderr, argv[1]);
			return CLI_USAGE;
		}
		fprintf(stderr, "gantry: unknown command '%s'\n", argv[1]);
		print_main_usage(stderr);
		return CLI_USAGE;
	}
	int rest = argc - 1 - used;
	char **rargv = argv + 1 + used;
	if (cli_wants_help(rest, rargv)) {
		print_help(c);
		return CLI_OK;
	}
	return c->run(c, rest, rargv);
}
