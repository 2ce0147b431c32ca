/* SPDX-License-Identifier: MIT */
/* shim.c — `gantry shim`: the per-task supervisor, run by the server's
 * local executor (exec/local/shim.c), not by people. */
#include "cli/cli.h"
#include "exec/exec.h"

int cli_shim(const struct cli_cmd *cmd, int argc, char **argv)
{
	(void)cmd;
	return exec_shim_main(argc, argv);
}
