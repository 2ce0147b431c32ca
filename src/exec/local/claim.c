/* SPDX-License-Identifier: MIT */
/*
 * claim.c — a task attempt's claim: whoever holds it runs the attempt.
 *
 * DESIGN
 * ------
 * The claim is a listening unix socket bound to an abstract name made from
 * the attempt's directory, "\0gantry-claim-<BLAKE2b-128 of DIR, hex>". A
 * shim binds it before it starts the task and holds it (close-on-exec) until
 * it exits; a second bind fails with EADDRINUSE. The kernel releases the
 * name with the socket, so nothing is ever left behind, and taking it
 * creates nothing on disk: the attempt's directory can be made after bash
 * has started (creating a directory costs milliseconds on the VMs this
 * runs on).
 *
 * Whoever holds the name, its pid is the socket's peer credential: a
 * connect gives it (SO_PEERCRED), so a restarted server finds a shim that
 * has not yet written shim.json. A holder that is not of our uid is not a
 * shim of ours (abstract names are open to every process of the network
 * namespace): exec__claim_take says so rather than wait for it.
 *
 * Abstract names live in the network namespace: the server, its zygote and
 * its shims share one, and a restarted server must run in the same one.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "exec/local/internal.h"

static socklen_t claim_addr(const char *dir, struct sockaddr_un *a)
{
	unsigned char h[16];
	char hex[33];
	crypto_generichash(h, sizeof(h), (const unsigned char *)dir, strlen(dir), NULL, 0);
	for (size_t i = 0; i < sizeof(h); i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "gantry-claim-%s", hex);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int exec__claim_holder(const char *dir, pid_t *pid, uid_t *uid)
{
	struct sockaddr_un a;
	socklen_t len = claim_addr(dir, &a);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	int rc = -1;
	/* the holder never accepts: the connection waits in its backlog until
	 * we close it, and the credentials are the listener's */
	if (connect(fd, (struct sockaddr *)&a, len) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0 && cr.pid > 0) {
		*pid = cr.pid;
		*uid = cr.uid;
		rc = 0;
	}
	close(fd);
	return rc;
}

int exec__claim_take(const char *dir, int *out, struct gerr *err)
{
	struct sockaddr_un a;
	socklen_t len = claim_addr(dir, &a);
	*out = -1;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return gerr_set(err, GERR_IO, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&a, len) < 0) {
		int e = errno;
		close(fd);
		if (e != EADDRINUSE)
			return gerr_set(err, GERR_IO, "cannot claim %s: bind: %s", dir, strerror(e));
		pid_t pid;
		uid_t uid;
		if (exec__claim_holder(dir, &pid, &uid) == 0 && uid != geteuid())
			return gerr_set(err, GERR_FORBIDDEN,
			                "the claim on %s is held by pid %d of uid %d, not by a shim of ours", dir,
			                (int)pid, (int)uid);
		return gerr_set(err, GERR_CONFLICT, "another shim runs the task attempt in %s", dir);
	}
	if (listen(fd, 64) < 0) {
		int e = errno;
		close(fd);
		return gerr_set(err, GERR_IO, "cannot claim %s: listen: %s", dir, strerror(e));
	}
	*out = fd;
	return 0;
}
