/* SPDX-License-Identifier: MIT */
/* info.c — the unauthenticated routes: API info, health, authn info. */
#include "api/internal.h"
#include "server/server.h"

int api_get_root(struct api_request *r)
{
	return api_text(r, 200, "text/plain; charset=utf-8", "PAI RESTful API v2 (beta version)");
}

int api_get_healthz(struct api_request *r)
{
	return api_text(r, 200, "text/plain; charset=utf-8", "ok");
}

int api_get_info(struct api_request *r)
{
	/* OpenPAI's fields first (clients check them), then Gantry's own */
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "name", "PAI RESTful API", "version",
	                      "v1.8.0", "launcherType", "k8s", "authnMethod", "basic");
	if (!o)
		return GERR_NOMEM;
	json_t *g = server_info_json(api_server(r));
	if (g)
		json_object_set_new(o, "gantry", g);
	return api_json(r, 200, o);
}

int api_get_authn_info(struct api_request *r)
{
	return api_json(r, 200, json_pack("{s:s, s:s, s:s}", "authn_type", "basic", "loginURI",
	                                  "/api/v1/authn/basic/login", "loginURIMethod", "post"));
}
