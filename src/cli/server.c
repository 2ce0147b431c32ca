/* SPDX-License-Identifier: MIT */
/* `gantry server`: parse the flags and run the server (src/server). */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "server/server.h"

int cli_server(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct server_config cfg = { 0 };
	const char *env = getenv("GANTRY_DATA");
	cfg.data_dir = env && *env ? env : "./var";
	cfg.listen = "127.0.0.1:9186";
	env = getenv("GANTRY_WEB");
	cfg.web_dir = env && *env ? env : NULL;

	for (int i = 0; i < argc; i++) {
		const char **slot = NULL;
		const char *arg = argv[i];
		if (!strcmp(arg, "--quiet")) {
			cfg.quiet = true;
			continue;
		}
		if (!strncmp(arg, "--data", 6))
			slot = &cfg.data_dir;
		else if (!strncmp(arg, "--listen", 8))
			slot = &cfg.listen;
		else if (!strncmp(arg, "--config", 8))
			slot = &cfg.config_file;
		else if (!strncmp(arg, "--web", 5))
			slot = &cfg.web_dir;
		else
			return cli_usage_error(cmd, "unknown option '%s'", arg);
		const char *eq = strchr(arg, '=');
		size_t namelen = eq ? (size_t)(eq - arg) : strlen(arg);
		if (namelen != (size_t)(slot == &cfg.data_dir ? 6 : slot == &cfg.web_dir ? 5 : 8))
			return cli_usage_error(cmd, "unknown option '%s'", arg);
		if (eq) {
			*slot = eq + 1;
		} else {
			if (++i >= argc)
				return cli_usage_error(cmd, "option '%s' needs a value", arg);
			*slot = argv[i];
		}
		if (!**slot)
			return cli_usage_error(cmd, "option '%.*s' needs a value", (int)namelen, arg);
	}
	return server_run(&cfg) == 0 ? CLI_OK : CLI_FAIL;
}
