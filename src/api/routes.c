/* SPDX-License-Identifier: MIT */
/*
 * routes.c — every route, in one table.
 *
 * Paths are matched after /rest-server and a trailing slash are stripped.
 * The first route whose pattern and method match wins, so fixed segments
 * ("/users/me") come before parameters ("/users/:user"). OpenPAI mounts the
 * user and group routes twice (/users and /user, /groups and /group) and
 * keeps some /api/v1 forms its clients still call; so do we.
 */
#include "api/internal.h"

#define USERS(prefix)                                                                        \
	{ "GET", prefix, API_USER, api_get_users },                                              \
	{ "POST", prefix, API_ADMIN, api_post_user },                                            \
	{ "PUT", prefix, API_ADMIN, api_put_users },                                             \
	{ "PUT", prefix "/me", API_USER_NOAPP, api_put_user_me },                                \
	{ "GET", prefix "/:user", API_USER, api_get_user },                                      \
	{ "DELETE", prefix "/:user", API_ADMIN, api_delete_user },                               \
	{ "PUT", prefix "/:user/grouplist", API_ADMIN, api_put_user_grouplist },                 \
	{ "PUT", prefix "/:user/group", API_ADMIN, api_put_user_group },                         \
	{ "DELETE", prefix "/:user/group", API_ADMIN, api_delete_user_group },                   \
	{ "PUT", prefix "/:user/extension", API_USER_NOAPP, api_put_user_extension },            \
	{ "PUT", prefix "/:user/virtualcluster", API_ADMIN, api_put_user_virtualcluster },       \
	{ "PUT", prefix "/:user/password", API_USER_NOAPP, api_put_user_password },              \
	{ "PUT", prefix "/:user/email", API_USER_NOAPP, api_put_user_email },                    \
	{ "PUT", prefix "/:user/admin", API_ADMIN, api_put_user_admin }

#define GROUPS(prefix)                                                                       \
	{ "GET", prefix, API_USER, api_get_groups },                                             \
	{ "POST", prefix, API_ADMIN, api_post_group },                                           \
	{ "PUT", prefix, API_ADMIN, api_put_groups },                                            \
	{ "GET", prefix "/:group", API_USER, api_get_group },                                    \
	{ "DELETE", prefix "/:group", API_ADMIN, api_delete_group },                             \
	{ "GET", prefix "/:group/userlist", API_ADMIN, api_get_group_userlist },                 \
	{ "PUT", prefix "/:group/extension/*", API_ADMIN, api_put_group_field },                 \
	{ "PUT", prefix "/:group/:field", API_ADMIN, api_put_group_field }

#define AUTHN(prefix)                                                                        \
	{ "GET", prefix "/authn/info", API_NONE, api_get_authn_info },                           \
	{ "POST", prefix "/authn/basic/login", API_NONE, api_post_login },                       \
	{ "DELETE", prefix "/authn/basic/logout", API_USER_NOAPP, api_delete_logout }

#define JOB "/api/v2/jobs/:job"

const struct api_route api_routes[] = {
	{ "GET", "/healthz", API_NONE, api_get_healthz },
	{ "GET", "/api/v2", API_NONE, api_get_root },
	{ "GET", "/api/v2/info", API_NONE, api_get_info },
	{ "GET", "/api/v1", API_NONE, api_get_info },
	AUTHN("/api/v2"),
	AUTHN("/api/v1"),

	{ "POST", "/api/v2/tokens", API_NONE, api_post_login },
	{ "GET", "/api/v2/tokens", API_USER_NOAPP, api_get_tokens },
	{ "POST", "/api/v2/tokens/application", API_USER_NOAPP, api_post_app_token },
	{ "GET", "/api/v2/tokens/check", API_USER, api_get_token_check },
	{ "DELETE", "/api/v2/tokens/:token", API_USER_NOAPP, api_delete_token },
	{ "POST", "/api/v1/token", API_NONE, api_post_login },
	{ "POST", "/api/v1/tokens", API_NONE, api_post_login },
	{ "GET", "/api/v1/tokens", API_USER_NOAPP, api_get_tokens },
	{ "POST", "/api/v1/tokens/application", API_USER_NOAPP, api_post_app_token },
	{ "DELETE", "/api/v1/tokens/:token", API_USER_NOAPP, api_delete_token },

	USERS("/api/v2/users"),
	USERS("/api/v2/user"),
	{ "GET", "/api/v1/user/:user", API_USER, api_get_user },
	{ "GET", "/api/v1/user/:user/jobs/:job", API_USER, api_get_v1_user_job },
	GROUPS("/api/v2/groups"),
	GROUPS("/api/v2/group"),

	{ "GET", "/api/v2/virtual-clusters", API_USER, api_get_vcs },
	{ "GET", "/api/v2/virtual-clusters/:vc", API_USER, api_get_vc },
	{ "PUT", "/api/v2/virtual-clusters/:vc", API_ADMIN, api_put_vc },
	{ "DELETE", "/api/v2/virtual-clusters/:vc", API_ADMIN, api_put_vc },
	{ "PUT", "/api/v2/virtual-clusters/:vc/status", API_ADMIN, api_put_vc },
	{ "GET", "/api/v2/virtual-clusters/:vc/sku-types", API_USER, api_get_sku_types },
	{ "GET", "/api/v2/cluster/sku-types", API_USER, api_get_sku_types },
	{ "GET", "/api/v2/cluster/nodes", API_USER, api_get_nodes },
	{ "GET", "/api/v2/storages", API_USER, api_get_storages },
	{ "GET", "/api/v2/storages/:storage", API_USER, api_get_storage },

	{ "GET", "/api/v2/jobs", API_USER, api_get_jobs },
	{ "POST", "/api/v2/jobs", API_USER, api_post_job },
	{ "GET", "/api/v1/jobs", API_USER, api_get_jobs },
	{ "GET", JOB, API_USER, api_get_job },
	{ "GET", JOB "/config", API_USER, api_get_job_config },
	{ "GET", JOB "/ssh", API_USER, api_get_job_ssh },
	{ "GET", JOB "/events", API_USER, api_get_job_events },
	{ "PUT", JOB "/executionType", API_USER, api_put_job_execution },
	{ "PUT", JOB "/tag", API_USER, api_put_job_tag },
	{ "DELETE", JOB "/tag", API_USER, api_delete_job_tag },
	{ "GET", JOB "/attempts/:attempt", API_USER, api_get_job_attempt },
	{ "GET", JOB "/attempts/:attempt/taskRoles/:role/taskIndex/:index/attempts/:taskAttempt/logs", API_USER,
	  api_get_task_logs },
	/* no route-level auth: a Bearer token or the signed token of the uri (logs.c) */
	{ "GET", JOB "/attempts/:attempt/taskRoles/:role/taskIndex/:index/attempts/:taskAttempt/logs/:name", API_NONE,
	  api_get_task_log },
	{ "GET", JOB "/job-attempts", API_USER, api_get_job_attempts },
	{ "GET", JOB "/job-attempts/healthz", API_USER, api_get_healthz },
	{ "GET", JOB "/job-attempts/:attempt", API_USER, api_get_job_attempt_index },
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
