/* SPDX-License-Identifier: MIT */
/*
 * sched_fixture.h — a scheduler for the sched unit tests: the config must
 * load (the test fails with the scheduler's message otherwise), every node
 * is healthy, and the scheduler checks its own invariants after each
 * change. Include after <cmocka.h> and "sched/sched.h".
 */
#ifndef GANTRY_TESTS_SCHED_FIXTURE_H
#define GANTRY_TESTS_SCHED_FIXTURE_H

static inline struct sched *sched_fixture(const char *config)
{
	struct gerr err = { 0 };
	struct sched *s = sched_new(config, strlen(config), &err);
	if (!s)
		fail_msg("config refused: %s", err.msg);
	sched_set_self_check(s, true);
	sched_nodes_set_healthy(s);
	return s;
}

#endif
