/* SPDX-License-Identifier: MIT */
/*
 * script.c — the one bash script a task runs.
 *
 * DESIGN
 * ------
 * openpai-runtime runs a task as several files: runtime_entry.sh (strict
 * bash) runs precommands.sh, which runs each plugin's plugin_pre<i>.sh with
 * `/bin/bash`; then user.sh (a strict header and the rendered entrypoint);
 * then postcommands.sh, the plugins' post scripts in reverse order, reached
 * only when user.sh succeeded. We emit the same as one script, each of those
 * processes becoming a subshell, so what one part does to its shell (cd,
 * variables, set options) stays in that part, exactly as it did there:
 *
 *     #!/bin/bash
 *     set -o errexit / nounset / pipefail            runtime_entry.sh, user.sh
 *     ( plugin 0 pre ) ( plugin 1 pre ) ...          precommands.sh
 *     ( : ; <entrypoint, secrets rendered> )         user.sh
 *     ... ( plugin 1 post ) ( plugin 0 post )        postcommands.sh
 *
 * A plugin script is plain bash (no nounset, no pipefail) whose commands
 * follow `set -o errexit`, or with failurePolicy ignore sit between
 * `set +o errexit` and `set -o errexit`, as plugin_utils.inject_commands
 * writes them. Errexit in the top shell turns any failing part into the
 * script's exit status, which is what runtime_entry.sh hands to exithandler.
 *
 * Plugins, in the runtime's order: the role's prerequisites whose `plugin` is
 * com.microsoft.pai.runtimeplugin.<name> (their other keys are the
 * parameters), then extras.com.microsoft.pai.runtimeplugin entries whose
 * `taskroles` (if given) name this role. The runtime compared `taskroles`
 * with the converted name (and crashed on a role whose name converts
 * differently); we accept either the name as written or the converted one.
 *   cmd          preCommands / postCommands, or callbacks with events
 *                taskStarts / taskSucceeds (the job files' names) or
 *                containerStarts / containerEnds (the runtime's code);
 *   git          clone repo_uri (options, clone_dir) before the command,
 *                10 tries with backoff as the runtime's init did;
 *   ssh,         not supported on this executor: a line on stderr says so
 *   tensorboard  and the job goes on;
 *   teamwise_storage  deprecated, a no-op in the runtime too.
 * Anything else made the runtime's initializer crash: GERR_INVALID here.
 *
 * The entrypoint's `<% $secrets.x %>` are filled here (render.c), so the
 * script may hold secrets: exec hands it to bash without writing it to disk.
 */
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "runtime/internal.h"

#define PLUGIN_PREFIX "com.microsoft.pai.runtimeplugin."

struct plugin {
	const char *name;
	bool ignore;                          /* failurePolicy: ignore */
	const struct spec_value *params;      /* object, or NULL */
	bool from_prereq;                     /* params is the prerequisite itself */
};

struct ctx {
	const struct spec_job *job;
	const struct spec_role *role;
	struct arena *a;
	struct rt__refs refs;
	struct gerr *err;
};

static const struct spec_value *param(const struct plugin *p, const char *key)
{
	if (!p->params || p->params->type != SPEC_OBJECT)
		return NULL;
	/* a prerequisite's own keys are not parameters */
	if (p->from_prereq && (!strcmp(key, "plugin") || !strcmp(key, "failurePolicy") || !strcmp(key, "type")))
		return NULL;
	return spec_value_get(p->params, key);
}

static bool role_listed(const struct spec_plugin *sp, const struct spec_role *role)
{
	if (!sp->task_roles)
		return true;
	for (size_t i = 0; i < sp->ntask_roles; i++)
		if (!strcmp(sp->task_roles[i], role->name) || (role->fc_name && !strcmp(sp->task_roles[i], role->fc_name)))
			return true;
	return false;
}

/* The role's plugins in the runtime's order; from c->a. */
static int collect(const struct ctx *c, struct plugin **out, size_t *n)
{
	const struct spec_role *r = c->role;
	size_t cap = r->nprereqs + c->job->nplugins;
	struct plugin *ps = arena_zalloc(c->a, (cap ? cap : 1) * sizeof(*ps));
	if (!ps)
		return gerr_set(c->err, GERR_NOMEM, "out of memory");
	*n = 0;
	for (size_t i = 0; i < r->nprereqs; i++) {
		const struct spec_prereq *pr = r->prereqs[i];
		if (!pr || !pr->plugin || strncmp(pr->plugin, PLUGIN_PREFIX, strlen(PLUGIN_PREFIX)))
			continue;
		ps[*n] = (struct plugin){ pr->plugin + strlen(PLUGIN_PREFIX),
		                          pr->failure_policy && !strcasecmp(pr->failure_policy, "ignore"), pr->raw,
		                          true };
		(*n)++;
	}
	for (size_t i = 0; i < c->job->nplugins; i++) {
		const struct spec_plugin *sp = &c->job->plugins[i];
		if (!role_listed(sp, r))
			continue;
		ps[*n] = (struct plugin){ sp->plugin, sp->failure_policy && !strcasecmp(sp->failure_policy, "ignore"),
		                          sp->parameters, false };
		(*n)++;
	}
	*out = ps;
	return 0;
}

/* A string parameter with references rendered; NULL (and 0) when absent. */
static int str_param(const struct ctx *c, const struct plugin *p, const char *key, const char **out)
{
	*out = NULL;
	const struct spec_value *v = param(p, key);
	if (!v || v->type == SPEC_NULL)
		return 0;
	const char *s = rt__scalar_str(c->a, v);
	if (!s)
		return gerr_set(c->err, GERR_INVALID, "runtime plugin %s: %s should be a string", p->name, key);
	char *r;
	struct gerr e;
	int rc = rt__render_refs(c->a, s, &c->refs, &r, &e);
	if (rc)
		return gerr_set(c->err, rc, "runtime plugin %s: %s: %s", p->name, key, e.msg);
	*out = r;
	return 0;
}

/* Append a list of commands (a YAML list of scalars) to b, rendered. */
static int put_commands(const struct ctx *c, const struct plugin *p, const char *what,
                        const struct spec_value *list, struct buf *b)
{
	if (!list || list->type == SPEC_NULL)
		return 0;
	if (list->type != SPEC_ARRAY)
		return gerr_set(c->err, GERR_INVALID, "runtime plugin %s: %s should be a list of commands", p->name,
		                what);
	for (size_t i = 0; i < list->n; i++) {
		const char *s = rt__scalar_str(c->a, list->items[i]);
		if (!s)
			return gerr_set(c->err, GERR_INVALID, "runtime plugin %s: %s[%zu] should be a command (a string)",
			                p->name, what, i);
		char *r;
		struct gerr e;
		int rc = rt__render_refs(c->a, s, &c->refs, &r, &e);
		if (rc)
			return gerr_set(c->err, rc, "runtime plugin %s: %s[%zu]: %s", p->name, what, i, e.msg);
		buf_puts(b, r);
		buf_putc(b, '\n');
	}
	return 0;
}

/* One plugin script as a subshell, as inject_commands writes it. */
static void open_block(struct buf *b, size_t idx, const struct plugin *p, const char *phase)
{
	buf_printf(b, "\n# runtime plugin %zu: %s, %s (failurePolicy: %s)\n(\n", idx, p->name, phase,
	           p->ignore ? "ignore" : "fail");
	buf_puts(b, "set +o nounset\nset +o pipefail\n");
	buf_puts(b, p->ignore ? "set +o errexit\n" : "set -o errexit\n");
}

static void close_block(struct buf *b, const struct plugin *p)
{
	if (p->ignore)
		buf_puts(b, "set -o errexit\n");
	buf_puts(b, ")\n");
}

static int plugin_cmd(const struct ctx *c, size_t idx, const struct plugin *p, struct buf *pre, struct buf *post)
{
	const struct spec_value *cb = param(p, "callbacks");
	const struct spec_value *pc = param(p, "preCommands"), *qc = param(p, "postCommands");
	struct buf pb = BUF_INIT, qb = BUF_INIT;
	int rc = 0;
	if (cb && (pc || qc)) {
		rc = gerr_set(c->err, GERR_INVALID,
		              "runtime plugin cmd: callbacks cannot be used with preCommands or postCommands");
	} else if (cb) {
		if (cb->type != SPEC_ARRAY) {
			rc = gerr_set(c->err, GERR_INVALID, "runtime plugin cmd: callbacks should be a list");
		}
		for (size_t i = 0; !rc && i < cb->n; i++) {
			const char *ev = rt__scalar_str(c->a, spec_value_get(cb->items[i], "event"));
			const struct spec_value *cmds = spec_value_get(cb->items[i], "commands");
			if (ev && (!strcmp(ev, "taskStarts") || !strcmp(ev, "containerStarts")))
				rc = put_commands(c, p, "callbacks.commands", cmds, &pb);
			else if (ev && (!strcmp(ev, "taskSucceeds") || !strcmp(ev, "containerEnds")))
				rc = put_commands(c, p, "callbacks.commands", cmds, &qb);
			/* other events: the runtime ignores them too */
		}
	} else {
		rc = put_commands(c, p, "preCommands", pc, &pb);
		if (!rc)
			rc = put_commands(c, p, "postCommands", qc, &qb);
	}
	if (!rc && pb.len) {
		open_block(pre, idx, p, "pre-commands");
		buf_append(pre, pb.data, pb.len);
		close_block(pre, p);
	}
	if (!rc && qb.len) {
		/* post blocks go in reverse plugin order: prepend */
		struct buf t = BUF_INIT;
		open_block(&t, idx, p, "post-commands");
		buf_append(&t, qb.data, qb.len);
		close_block(&t, p);
		buf_append(&t, post->data, post->len);
		buf_clear(post);
		buf_append(post, t.data, t.len);
		if (t.oom)
			post->oom = true;
		buf_fini(&t);
	}
	if (!rc && (pb.oom || qb.oom))
		rc = gerr_set(c->err, GERR_NOMEM, "out of memory");
	buf_fini(&pb);
	buf_fini(&qb);
	return rc;
}

static int plugin_git(const struct ctx *c, size_t idx, const struct plugin *p, struct buf *pre)
{
	const char *repo, *dir;
	int rc = str_param(c, p, "repo_uri", &repo);
	if (!rc)
		rc = str_param(c, p, "clone_dir", &dir);
	if (rc)
		return rc;
	if (!repo || !*repo) {
		if (!p->ignore)
			return gerr_set(c->err, GERR_INVALID, "runtime plugin git: parameters.repo_uri is required");
		buf_printf(pre, "\n# runtime plugin %zu: git, without repo_uri (failurePolicy: ignore)\n", idx);
		buf_puts(pre, "echo 'gantry: runtime plugin git: parameters.repo_uri is missing; ignored' >&2\n");
		return 0;
	}
	/* options are shell words, as GitPython's multi_options were split */
	struct buf opts = BUF_INIT;
	const struct spec_value *ov = param(p, "options");
	if (ov && ov->type == SPEC_ARRAY) {
		for (size_t i = 0; i < ov->n; i++) {
			const char *s = rt__scalar_str(c->a, ov->items[i]);
			char *r;
			struct gerr e;
			if (!s) {
				buf_fini(&opts);
				return gerr_set(c->err, GERR_INVALID, "runtime plugin git: options[%zu] should be a string",
				                i);
			}
			if ((rc = rt__render_refs(c->a, s, &c->refs, &r, &e))) {
				buf_fini(&opts);
				return gerr_set(c->err, rc, "runtime plugin git: options[%zu]: %s", i, e.msg);
			}
			buf_printf(&opts, "%s ", r);
		}
	}
	const char *qrepo = rt__sh_quote(c->a, repo);
	/* clone_dir is pasted as the runtime pasted it (mkdir -p <clone_dir>): ~ and $VARS expand */
	const char *target = dir && *dir ? dir : "\"${PAI_WORK_DIR:-.}/code\"";
	if (!qrepo) {
		buf_fini(&opts);
		return gerr_set(c->err, GERR_NOMEM, "out of memory");
	}
	buf_printf(pre, "\n# runtime plugin %zu: git, clone %s (failurePolicy: %s)\n(\n", idx, qrepo,
	           p->ignore ? "ignore" : "fail");
	buf_puts(pre, "set +o nounset\nset +o pipefail\nset -o errexit\n");
	buf_printf(pre, "__gantry_dir=%s\n", target);
	buf_puts(pre,
	         "if [ -e \"$__gantry_dir\" ] && { [ ! -d \"$__gantry_dir\" ] || [ -n \"$(ls -A \"$__gantry_dir\")\" ]; }; then\n"
	         "\techo \"fatal: destination path '$__gantry_dir' already exists and is not an empty directory.\" >&2\n"
	         "\texit 1\n"
	         "fi\n"
	         "__gantry_try=0\n");
	/* a failed clone removes what it made, so a retry starts clean */
	buf_printf(pre, "until git clone %s-- %s \"$__gantry_dir\"; do\n", opts.data ? opts.data : "", qrepo);
	buf_puts(pre,
	         "\t__gantry_try=$((__gantry_try + 1))\n"
	         "\tif [ \"$__gantry_try\" -ge 10 ]; then echo 'gantry: runtime plugin git: clone failed 10 times' >&2; exit 1; fi\n"
	         "\tsleep $((__gantry_try < 8 ? 1 << __gantry_try : 300))\n"
	         "done\n");
	buf_puts(pre, p->ignore ? ") || echo 'gantry: runtime plugin git failed; ignored (failurePolicy: ignore)' >&2\n"
	                        : ")\n");
	if (opts.oom)
		pre->oom = true;
	buf_fini(&opts);
	return 0;
}

int rt_script(const struct spec_job *job, const struct spec_role *role, struct arena *a, char **script,
              struct gerr *err)
{
	*script = NULL;
	const struct spec_value *secrets = job->has_secrets ? spec_value_get(job->root, "secrets") : NULL;
	struct ctx c = { job, role, a,
	                 { job->parameters, secrets, role->script ? role->script->raw : NULL,
	                   role->output ? role->output->raw : NULL, role->data ? role->data->raw : NULL },
	                 err };
	struct plugin *ps = NULL;
	size_t n = 0;
	int rc = collect(&c, &ps, &n);
	if (rc)
		return rc;

	struct buf pre = BUF_INIT, post = BUF_INIT, out = BUF_INIT;
	for (size_t i = 0; !rc && i < n; i++) {
		const struct plugin *p = &ps[i];
		if (!strcmp(p->name, "cmd")) {
			rc = plugin_cmd(&c, i, p, &pre, &post);
		} else if (!strcmp(p->name, "git")) {
			rc = plugin_git(&c, i, p, &pre);
		} else if (!strcmp(p->name, "ssh") || !strcmp(p->name, "tensorboard")) {
			buf_printf(&pre, "\n# runtime plugin %zu: %s, not supported on this executor\n", i, p->name);
			buf_printf(&pre, "echo 'gantry: runtime plugin \"%s\" is not supported on this executor; "
			                 "skipped (the job goes on)' >&2\n", p->name);
		} else if (!strcmp(p->name, "teamwise_storage")) {
			buf_printf(&pre, "\n# runtime plugin %zu: teamwise_storage, deprecated: a no-op "
			                 "(its storages come from extras.storages)\n", i);
		} else {
			rc = gerr_set(err, GERR_INVALID,
			              "runtime plugin '%s' does not exist (known: cmd, git, ssh, tensorboard, "
			              "teamwise_storage)", p->name);
		}
	}
	char *entry = rc ? NULL : rt__render_secrets(a, role->entrypoint, secrets);
	if (!rc && !entry)
		rc = gerr_set(err, GERR_NOMEM, "out of memory");
	if (!rc) {
		buf_printf(&out, "#!/bin/bash\n# gantry: the script of task role %s (openpai-runtime's user.sh and "
		                 "runtime plugins; see docs/user/runtime.md)\n", role->name);
		buf_puts(&out, "set -o errexit\nset -o nounset\nset -o pipefail\n");
		buf_append(&out, pre.data, pre.len);
		/* ":" first: a body of only comments would not parse; the blank line
		 * ends a trailing backslash before ")" */
		buf_puts(&out, "\n# the user's command (user.sh)\n(\n:\n");
		buf_puts(&out, entry);
		buf_puts(&out, "\n\n)\n");
		buf_append(&out, post.data, post.len);
		if (out.oom || pre.oom || post.oom)
			rc = gerr_set(err, GERR_NOMEM, "out of memory");
		else if (!(*script = arena_strndup(a, buf_str(&out), out.len)))
			rc = gerr_set(err, GERR_NOMEM, "out of memory");
	}
	buf_fini(&pre);
	buf_fini(&post);
	buf_fini(&out);
	return rc;
}
