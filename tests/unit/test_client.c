/* SPDX-License-Identifier: MIT */
/* test_client — the CLI's client side: options, URLs, the saved login and
 * which server gets the token, path escaping, tables and times. The calls to
 * a live server are in tests/e2e/cli_client.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/client.h"

static const struct cli_cmd CMD = { "test", "", "a command for the tests", NULL, NULL };

static void server_urls(void **state)
{
	(void)state;
	struct { const char *in, *out; } cases[] = {
		{ "127.0.0.1:9186", "http://127.0.0.1:9186" },
		{ "http://127.0.0.1:9186/", "http://127.0.0.1:9186" },
		{ "https://pai.example.org//", "https://pai.example.org" },
		{ "HTTP://Host:1/rest-server", "HTTP://Host:1/rest-server" },
		{ "ftp://host", NULL },
		{ "http://", NULL },
		{ "", NULL },
		{ "http://host/?x=1", NULL },
		{ "http://ho st", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = client_server_normalize(cases[i].in);
		if (cases[i].out)
			assert_string_equal(got, cases[i].out);
		else
			assert_null(got);
		free(got);
	}
}

static void options(void **state)
{
	(void)state;
	const char *user = NULL, *out = NULL;
	bool all = false;
	struct client_list vcs = { .n = 0 };
	const struct client_opt opts[] = {
		{ "--user", "-u", CLIENT_VALUE, &user },
		{ "--output", "-o", CLIENT_VALUE, &out },
		{ "--all", "-a", CLIENT_FLAG, &all },
		{ "--vc", NULL, CLIENT_LIST, &vcs },
		CLIENT_OPT_END,
	};
	char *argv[] = { "one", "--user=alice", "two", "-ojson", "--vc", "a", "-a", "--vc=b", "-", "--", "--all", NULL };
	int n = -1;
	assert_int_equal(client_parse(&CMD, 11, argv, opts, &n), CLI_OK);
	assert_int_equal(n, 4);   /* options anywhere; "-" and what follows "--" are arguments */
	assert_string_equal(argv[0], "one");
	assert_string_equal(argv[1], "two");
	assert_string_equal(argv[2], "-");
	assert_string_equal(argv[3], "--all");
	assert_string_equal(user, "alice");
	assert_string_equal(out, "json");
	assert_true(all);
	assert_int_equal(vcs.n, 2);
	assert_string_equal(vcs.v[0], "a");
	assert_string_equal(vcs.v[1], "b");

	char *bad1[] = { "--bogus" }, *bad2[] = { "--user" }, *bad3[] = { "--all=yes" }, *bad4[] = { "-x" };
	assert_int_equal(client_parse(&CMD, 1, bad1, opts, &n), CLI_USAGE);
	assert_int_equal(client_parse(&CMD, 1, bad2, opts, &n), CLI_USAGE);
	assert_int_equal(client_parse(&CMD, 1, bad3, opts, &n), CLI_USAGE);
	assert_int_equal(client_parse(&CMD, 1, bad4, opts, &n), CLI_USAGE);

	char *many[2 * CLIENT_LIST_MAX + 2];
	struct client_list l2 = { .n = 0 };
	const struct client_opt o2[] = { { "--vc", NULL, CLIENT_LIST, &l2 }, CLIENT_OPT_END };
	for (int i = 0; i < CLIENT_LIST_MAX + 1; i++) {
		many[2 * i] = "--vc";
		many[2 * i + 1] = "x";
	}
	assert_int_equal(client_parse(&CMD, 2 * CLIENT_LIST_MAX + 2, many, o2, &n), CLI_USAGE);
}

/* ---- the saved login -------------------------------------------------------------- */

struct dirs {
	char root[64];
};

static int setup_dirs(void **state)
{
	struct dirs *d = calloc(1, sizeof(*d));
	strcpy(d->root, "/tmp/gantry-test-client-XXXXXX");
	if (!mkdtemp(d->root))
		return -1;
	char xdg[128];
	snprintf(xdg, sizeof(xdg), "%s/xdg", d->root);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	setenv("HOME", d->root, 1);
	unsetenv("GANTRY_SERVER");
	unsetenv("GANTRY_TOKEN");
	*state = d;
	return 0;
}

static int teardown_dirs(void **state)
{
	struct dirs *d = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d->root);
	int rc = system(cmd);
	free(d);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("GANTRY_TOKEN");
	unsetenv("GANTRY_SERVER");
	return rc == 0 ? 0 : -1;
}

static void config_round_trip(void **state)
{
	struct dirs *d = *state;
	struct client_config cfg, got;
	struct gerr e;
	struct stat st;
	char path[256];

	/* no file yet: an empty config, not an error */
	assert_int_equal(client_config_load(&got, &e), 0);
	assert_null(got.server);
	assert_null(got.token);
	client_config_fini(&got);

	cfg = (struct client_config){ "http://127.0.0.1:9186", "alice", "s3cret-token", true };
	assert_int_equal(client_config_save(&cfg, &e), 0);
	snprintf(path, sizeof(path), "%s/xdg/gantry/config.json", d->root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/xdg/gantry", d->root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	assert_int_equal(client_config_load(&got, &e), 0);
	assert_string_equal(got.server, "http://127.0.0.1:9186");
	assert_string_equal(got.user, "alice");
	assert_string_equal(got.token, "s3cret-token");
	assert_true(got.admin);
	client_config_fini(&got);

	/* a relative XDG_CONFIG_HOME is ignored, as the spec says */
	setenv("XDG_CONFIG_HOME", "relative", 1);
	struct buf p = BUF_INIT;
	assert_int_equal(client_config_path(&p, &e), 0);
	snprintf(path, sizeof(path), "%s/.config/gantry/config.json", d->root);
	assert_string_equal(buf_str(&p), path);
	buf_fini(&p);

	/* a damaged file is an error that says where */
	snprintf(path, sizeof(path), "%s/xdg", d->root);
	setenv("XDG_CONFIG_HOME", path, 1);
	snprintf(path, sizeof(path), "%s/xdg/gantry/config.json", d->root);
	FILE *f = fopen(path, "w");
	fputs("{not json", f);
	fclose(f);
	assert_int_equal(client_config_load(&got, &e), GERR_CONFIG);
	assert_non_null(strstr(e.msg, "config.json"));
}

/* The saved token goes only to the server it was issued by. */
static void token_goes_to_its_server(void **state)
{
	(void)state;
	struct client_config cfg = { "http://10.0.0.1:9186", "alice", "saved-token", false };
	struct client c;
	struct gerr e;
	assert_int_equal(client_config_save(&cfg, &e), 0);

	struct client_common co = { 0 };
	assert_int_equal(client_open(&c, &CMD, &co, CLIENT_NEED_TOKEN), CLI_OK);
	assert_string_equal(c.server, "http://10.0.0.1:9186");
	assert_string_equal(client_token(&c), "saved-token");
	assert_string_equal(c.user, "alice");
	assert_true(c.saved_token);
	client_close(&c);

	co.server = "10.0.0.2:9186";
	assert_int_equal(client_open(&c, &CMD, &co, 0), CLI_OK);
	assert_string_equal(c.server, "http://10.0.0.2:9186");
	assert_null(client_token(&c));
	client_close(&c);
	assert_int_equal(client_open(&c, &CMD, &co, CLIENT_NEED_TOKEN), CLI_FAIL);
	client_close(&c);

	setenv("GANTRY_SERVER", "http://10.0.0.3:1", 1);
	co.server = NULL;
	assert_int_equal(client_open(&c, &CMD, &co, 0), CLI_OK);
	assert_string_equal(c.server, "http://10.0.0.3:1");
	assert_null(client_token(&c));
	client_close(&c);

	setenv("GANTRY_TOKEN", "env-token", 1);
	assert_int_equal(client_open(&c, &CMD, &co, CLIENT_NEED_TOKEN), CLI_OK);
	assert_string_equal(client_token(&c), "env-token");
	assert_false(c.saved_token);
	assert_null(c.user);
	client_close(&c);
	/* login sends none; logout uses only the saved one */
	assert_int_equal(client_open(&c, &CMD, &co, CLIENT_NO_TOKEN), CLI_OK);
	assert_null(client_token(&c));
	client_close(&c);
	unsetenv("GANTRY_SERVER");
	assert_int_equal(client_open(&c, &CMD, &co, CLIENT_SAVED_TOKEN), CLI_OK);
	assert_string_equal(client_token(&c), "saved-token");
	client_close(&c);

	co.output = "yaml";
	assert_int_equal(client_open(&c, &CMD, &co, 0), CLI_USAGE);
	client_close(&c);
	co.output = NULL;
	co.server = "gopher://x";
	assert_int_equal(client_open(&c, &CMD, &co, 0), CLI_USAGE);
	client_close(&c);
}

static void paths_are_escaped(void **state)
{
	struct client c;
	struct client_common co = { "127.0.0.1:1", NULL };
	struct buf p = BUF_INIT;
	(void)state;
	unsetenv("GANTRY_TOKEN");
	assert_int_equal(client_open(&c, &CMD, &co, 0), CLI_OK);
	client_pathf(&c, &p, "/api/v2/jobs/%s/config", "alice~my job/../x?y#z%");
	assert_string_equal(buf_str(&p), "/api/v2/jobs/alice~my%20job%2F..%2Fx%3Fy%23z%25/config");
	buf_clear(&p);
	buf_puts(&p, "/api/v2/jobs");
	client_query(&c, &p, "username", "a&b");
	client_query(&c, &p, "vc", NULL);
	client_query(&c, &p, "state", "WAITING,RUNNING");
	assert_string_equal(buf_str(&p), "/api/v2/jobs?username=a%26b&state=WAITING%2CRUNNING");

	/* nothing listens on port 1: a transport error, no status */
	struct client_reply rep;
	assert_int_equal(client_call(&c, "GET", "/api/v2", NULL, NULL, 0, &rep), CLI_FAIL);
	assert_int_equal(rep.status, 0);
	buf_fini(&rep.body);
	buf_fini(&p);
	client_close(&c);
}

/* ---- output -------------------------------------------------------------------- */

static char *print_table(const struct client_table *t)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	client_table_print(t, f);
	fclose(f);
	return s;
}

static void tables(void **state)
{
	(void)state;
	struct client_table t;
	client_table_init(&t, 3);
	client_table_row(&t, "NAME", "STATE", "NOTE");
	client_table_row(&t, "a-much-longer-name", "RUNNING", "x");
	client_table_row(&t, "é", NULL, "tab\there\x1b[31m");
	char *s = print_table(&t);
	assert_string_equal(s, "NAME                STATE    NOTE\n"
	                       "a-much-longer-name  RUNNING  x\n"
	                       "é                   -        tab here?[31m\n");
	free(s);
	client_table_fini(&t);

	json_t *v = json_loads("[\"s\", \"\", 3, 2.5, true, false, null, [0, 1], {\"cpu\": 2, \"gpu\": 0}, []]", 0, NULL);
	client_table_init(&t, 1);
	for (size_t i = 0; i < json_array_size(v); i++)
		client_table_add_json(&t, json_array_get(v, i));
	client_table_add_json(&t, NULL);
	s = print_table(&t);
	assert_string_equal(s, "s\n-\n3\n2.5\nyes\nno\n-\n0,1\ncpu=2, gpu=0\n-\n-\n");
	free(s);
	client_table_fini(&t);
	json_decref(v);

	/* an incomplete last row is not printed; an empty table prints nothing */
	client_table_init(&t, 2);
	client_table_add(&t, "only");
	s = print_table(&t);
	assert_string_equal(s, "");
	free(s);
	client_table_fini(&t);
}

static void times(void **state)
{
	(void)state;
	char out[64];
	setenv("TZ", "UTC", 1);
	tzset();
	json_t *ms = json_integer(1700000000123);
	assert_string_equal(client_time_ms(ms, out, sizeof(out)), "2023-11-14 22:13:20");
	json_decref(ms);
	assert_string_equal(client_time_ms(NULL, out, sizeof(out)), "-");
	json_t *zero = json_integer(0);
	assert_string_equal(client_time_ms(zero, out, sizeof(out)), "-");
	json_decref(zero);
	assert_string_equal(client_time_iso("2023-11-14T22:13:20.123Z", out, sizeof(out)), "2023-11-14 22:13:20");
	assert_string_equal(client_time_iso("yesterday", out, sizeof(out)), "yesterday");
	assert_string_equal(client_time_iso(NULL, out, sizeof(out)), "-");
	setenv("TZ", "IST-5:30", 1);   /* POSIX form: UTC+5:30, needs no tzdata */
	tzset();
	assert_string_equal(client_time_iso("2023-11-14T22:13:20Z", out, sizeof(out)), "2023-11-15 03:43:20");
	unsetenv("TZ");
	tzset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(server_urls),
		cmocka_unit_test(options),
		cmocka_unit_test_setup_teardown(config_round_trip, setup_dirs, teardown_dirs),
		cmocka_unit_test_setup_teardown(token_goes_to_its_server, setup_dirs, teardown_dirs),
		cmocka_unit_test_setup_teardown(paths_are_escaped, setup_dirs, teardown_dirs),
		cmocka_unit_test(tables),
		cmocka_unit_test(times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
