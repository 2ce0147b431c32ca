/* SPDX-License-Identifier: MIT */
/*
 * follow — stream a task's growing log file to many HTTP clients at once,
 * as `tail -F` would, until the task attempt is over. Internal to api/.
 *
 * No thread is held per client. A follower's body is an MHD content reader
 * (MHD_create_response_from_callback) that reads what the file has and,
 * when there is nothing new, suspends its connection. One watcher thread
 * owns an inotify instance (one watch per followed directory) and an epoll
 * set; a change in a followed directory resumes the connections following
 * a file there, and MHD's worker calls the reader again. The stream ends
 * once DIR/exit.json exists and the file has been read to its end.
 *
 * Rotation: the writer renames FILE to FILE.1 and creates a new FILE. A
 * follower keeps its descriptor on the old file, reads it to its end, then
 * goes on with the new one (through FILE.1 first when it was rotated twice
 * while the client was slow).
 *
 * The watcher also watches each client's socket (EPOLLRDHUP), so a client
 * that goes away while its connection is suspended is noticed at once, and
 * sends SSE clients a comment every FOLLOW_PING_S seconds.
 *
 * Threads: follow_start and the reader run on MHD workers, follow_release
 * on the worker that completes the request, the watcher on its own thread.
 * Everything shared is under one mutex; MHD_resume_connection is called
 * with it held and only for connections the reader itself suspended, so a
 * resumed connection can never be one MHD has already closed.
 */
#ifndef GANTRY_API_FOLLOW_H
#define GANTRY_API_FOLLOW_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/gerr.h"

#define FOLLOW_PING_S 25

struct follow;
struct follower;

/* Start the watcher thread. Returns owned memory (follow_free) or NULL with err. */
struct follow *follow_new(struct gerr *err);
/* The server is stopping: every stream ends now (SSE ones with their end
 * event), and streams started from now on end at once. Any thread. */
void follow_shutdown(struct follow *f);
/* Stop the watcher and free. Only once MHD has stopped (no followers left). */
void follow_free(struct follow *f);

struct follow_opts {
	const char *dir;              /* the task attempt's directory (borrowed) */
	const char *file;             /* a file name in it, e.g. "user.pai.stdout" (borrowed) */
	int64_t offset;               /* start here in the current file (clamped to its size) */
	bool tail;                    /* start FOLLOW_TAIL bytes before its end instead */
	bool sse;                     /* text/event-stream framing */
};

#define FOLLOW_TAIL 16384

/*
 * A streaming response for conn: *resp (queue it, then MHD_destroy_response)
 * and *fl, to be given to follow_release when the request completes (also
 * when queueing fails). GERR_NOMEM or GERR_IO with err; nothing to release then.
 */
int follow_start(struct follow *f, struct MHD_Connection *conn, const struct follow_opts *o,
                 struct MHD_Response **resp, struct follower **fl, struct gerr *err);
/* The request is over (api_request.cleanup): fl is freed by the watcher. */
void follow_release(void *fl);

/* Followers now streaming (for tests and figures). */
unsigned follow_count(struct follow *f);

#endif
