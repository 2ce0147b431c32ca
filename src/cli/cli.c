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
	{ "server", "[--data DIR] [--listen ADDR:PORT] [--config FILE] [--quiet]",
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
