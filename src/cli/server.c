/* SPDX-License-Identifier: MIT */
/* `gantry server`: parse the flags and run the server (src/server). */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "server/server.h"

/* "A-B" with 1 <= A < B <= 65536 */
static bool parse_range(const char *s, int *a, int *b)
{
	char *end;
	long x = strtol(s, &end, 10);
	if (end == s || *end != '-')
		return false;
	const char *t = end + 1;
	long y = strtol(t, &end, 10);
	if (end == t || *end || x < 1 || y > 65536 || x >= y)
		return false;
	*a = (int)x;
	*b = (int)y;
	return true;
}

static bool parse_seconds(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < 0 || v > 86400)
		return false;
	*out = (int)v;
	return true;
}

int cli_server(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct server_config cfg = { 0 };
	const char *env = getenv("GANTRY_DATA");
	const char *ports = "15000-40000", *grace = "30";   /* OpenPAI's SCHEDULE_PORT_START/END */
	cfg.data_dir = env && *env ? env : "./var";
	cfg.listen = "127.0.0.1:9186";
	env = getenv("GANTRY_WEB");
	cfg.web_dir = env && *env ? env : NULL;
	env = getenv("GANTRY_STOP_GRACE");
	if (env && *env)
		grace = env;
	env = getenv("GANTRY_WAIT_REFRESH_MS");   /* the tests use 0 */
	cfg.wait_refresh_ms = env && *env ? strtoll(env, NULL, 10) : 30000;
	if (cfg.wait_refresh_ms < 0)
		cfg.wait_refresh_ms = 30000;
	static const struct { const char *name; size_t off; } opts[] = {
		{ "--data", offsetof(struct server_config, data_dir) },
		{ "--listen", offsetof(struct server_config, listen) },
		{ "--config", offsetof(struct server_config, config_file) },
		{ "--web", offsetof(struct server_config, web_dir) },
		{ "--ports", 0 },
		{ "--stop-grace", 0 },
	};

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "--quiet")) {
			cfg.quiet = true;
			continue;
		}
		const char *eq = strchr(arg, '=');
		size_t namelen = eq ? (size_t)(eq - arg) : strlen(arg);
		size_t k = 0;
		while (k < sizeof(opts) / sizeof(opts[0]) &&
		       !(strlen(opts[k].name) == namelen && !strncmp(arg, opts[k].name, namelen)))
			k++;
		if (k == sizeof(opts) / sizeof(opts[0]))
			return cli_usage_error(cmd, "unknown option '%s'", arg);
		const char *val;
		if (eq) {
			val = eq + 1;
		} else {
			if (++i >= argc)
				return cli_usage_error(cmd, "option '%s' needs a value", arg);
			val = argv[i];
		}
		if (!*val)
			return cli_usage_error(cmd, "option '%.*s' needs a value", (int)namelen, arg);
		if (!strcmp(opts[k].name, "--ports"))
			ports = val;
		else if (!strcmp(opts[k].name, "--stop-grace"))
			grace = val;
		else
			*(const char **)((char *)&cfg + opts[k].off) = val;
	}
	if (!parse_range(ports, &cfg.port_start, &cfg.port_end))
		return cli_usage_error(cmd, "--ports: '%s' is not a range START-END (1 <= START < END <= 65536)", ports);
	if (!parse_seconds(grace, &cfg.stop_grace_s))
		return cli_usage_error(cmd, "--stop-grace: '%s' is not a number of seconds (0 to 86400)", grace);
	return server_run(&cfg) == 0 ? CLI_OK : CLI_FAIL;
}
