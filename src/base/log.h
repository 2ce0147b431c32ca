/* SPDX-License-Identifier: MIT */
/*
 * log — one line per event on stderr: "TIME LEVEL message".
 *
 * Lines are written with one write(2) each, so threads never interleave
 * within a line. The sink is the one process-wide mutable setting besides
 * read-only config (STYLE §7); log_set_quiet() silences info lines (tests).
 */
#ifndef GANTRY_BASE_LOG_H
#define GANTRY_BASE_LOG_H

#include <stdbool.h>

void log_set_quiet(bool quiet);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
