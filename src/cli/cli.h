/* SPDX-License-Identifier: MIT */
/*
 * cli — the `gantry` command line: dispatch, help, and the client commands.
 *
 * Every command is a row in one table (cli.c) with its usage text, so
 * `gantry help`, `gantry <cmd> --help` and the errors for unknown commands
 * and options read from the same place. Exit status: 0 success, 1 the
 * command ran and found a failure (an invalid job file), 2 a usage error.
 */
#ifndef GANTRY_CLI_CLI_H
#define GANTRY_CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

struct cli_cmd {
	const char *name;       /* "job validate" */
	const char *args;       /* "[--json] FILE..." */
	const char *summary;    /* one line for `gantry help` */
	const char *help;       /* the rest of `--help`, or NULL */
	int (*run)(const struct cli_cmd *cmd, int argc, char **argv);  /* argv[0] is the first arg */
};

int cli_main(int argc, char **argv);

/* Print "gantry <cmd>: <msg>" and the command's usage on stderr; returns CLI_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cli_print_usage(FILE *f, const struct cli_cmd *cmd);
/* True when argv holds -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

/* commands */
int cli_job_validate(const struct cli_cmd *cmd, int argc, char **argv);
int cli_sim_replay(const struct cli_cmd *cmd, int argc, char **argv);
int cli_sim_run(const struct cli_cmd *cmd, int argc, char **argv);
/* Replay one HiveD scenario file, printing PASS/FAIL lines to out; counts the
 * steps that assert. Returns CLI_OK when every case passes. */
int cli_sim_replay_file(const char *path, FILE *out, bool check, bool verbose, bool strict, int *passed,
                        int *failed);
int cli_server(const struct cli_cmd *cmd, int argc, char **argv);
int cli_shim(const struct cli_cmd *cmd, int argc, char **argv);     /* shim.c */
int cli_doctor(const struct cli_cmd *cmd, int argc, char **argv);   /* doctor.c */
/* client commands (client.h): login_cmd.c, jobs_cmd.c, users_cmd.c, cluster_cmd.c */
int cli_login(const struct cli_cmd *cmd, int argc, char **argv);
int cli_logout(const struct cli_cmd *cmd, int argc, char **argv);
int cli_token_list(const struct cli_cmd *cmd, int argc, char **argv);
int cli_token_create(const struct cli_cmd *cmd, int argc, char **argv);
int cli_token_revoke(const struct cli_cmd *cmd, int argc, char **argv);
int cli_job_submit(const struct cli_cmd *cmd, int argc, char **argv);
int cli_job_list(const struct cli_cmd *cmd, int argc, char **argv);
int cli_job_show(const struct cli_cmd *cmd, int argc, char **argv);
int cli_job_stop(const struct cli_cmd *cmd, int argc, char **argv);
int cli_job_config(const struct cli_cmd *cmd, int argc, char **argv);
int cli_job_events(const struct cli_cmd *cmd, int argc, char **argv);
int cli_job_logs(const struct cli_cmd *cmd, int argc, char **argv);
int cli_user_list(const struct cli_cmd *cmd, int argc, char **argv);
int cli_user_show(const struct cli_cmd *cmd, int argc, char **argv);
int cli_user_create(const struct cli_cmd *cmd, int argc, char **argv);
int cli_user_delete(const struct cli_cmd *cmd, int argc, char **argv);
int cli_user_passwd(const struct cli_cmd *cmd, int argc, char **argv);
int cli_user_set_vcs(const struct cli_cmd *cmd, int argc, char **argv);
int cli_user_set_admin(const struct cli_cmd *cmd, int argc, char **argv);
int cli_group_list(const struct cli_cmd *cmd, int argc, char **argv);
int cli_group_show(const struct cli_cmd *cmd, int argc, char **argv);
int cli_group_create(const struct cli_cmd *cmd, int argc, char **argv);
int cli_group_delete(const struct cli_cmd *cmd, int argc, char **argv);
int cli_vc_list(const struct cli_cmd *cmd, int argc, char **argv);
int cli_vc_show(const struct cli_cmd *cmd, int argc, char **argv);
int cli_node_list(const struct cli_cmd *cmd, int argc, char **argv);

extern const char gantry_version[];
extern const char gantry_commit[];

#endif
