/* SPDX-License-Identifier: MIT */
/* gantry — one binary: server, shim and every client command (see cli/). */
#include "cli/cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
