/* qga/qga.h -- the QEMU guest agent, spoken through a small transport table.
 *
 * The real transport is libvirt (qga_libvirt.h): virDomainFSFreeze/FSThaw
 * for the freeze itself (libvirt's own agent job, with the domain's agent
 * response timeout) and virDomainQemuAgentCommand for the rest. Unit tests
 * script the same table.
 */
#ifndef QGA_H
#define QGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"

typedef struct qga_transport_ops {
    /* Bounds every later agent call of this domain to @timeout_s seconds. */
    bool (*set_timeout)(void *impl, int timeout_s, snap_error *err);
    /* Freezes @mounts (all when @n is 0); returns the count frozen, or -1. */
    int (*fs_freeze)(void *impl, const char *const *mounts, size_t n,
                     snap_error *err);
    /* Thaws all; returns the count thawed, or -1. */
    int (*fs_thaw)(void *impl, snap_error *err);
    /* Sends one command (JSON text) and returns the reply text (a new
     * string, free()), or NULL. @timeout_s >= 1. */
    char *(*command)(void *impl, const char *cmd, int timeout_s,
                     snap_error *err);
} qga_transport_ops;

typedef struct qga_agent qga_agent;

/* Returns a new agent on @ops/@impl (borrowed; must outlive the agent).
 * Free with qga_agent_free(). Not thread-safe. */
qga_agent *qga_agent_new(const qga_transport_ops *ops, void *impl,
                         snap_error *err);
void qga_agent_free(qga_agent *agent);

/* True when the agent answers guest-ping within @timeout_ms. */
bool qga_agent_ping(qga_agent *agent, int64_t timeout_ms, snap_error *err);

/* Freezes the guest's filesystems (only @mounts when @n > 0) with the
 * agent timeout set to @timeout_ms (rounded up to whole seconds, as libvirt
 * counts). Returns the number frozen or -1 (SNAP_E_TIMEOUT when the agent
 * did not answer in time: some filesystems may be frozen). */
int qga_fs_freeze(qga_agent *agent, const char *const *mounts, size_t n,
                  int64_t timeout_ms, snap_error *err);

/* Thaws; returns the number thawed or -1. */
int qga_fs_thaw(qga_agent *agent, int64_t timeout_ms, snap_error *err);

/* Asks guest-fsfreeze-status: 1 frozen, 0 thawed, -1 on error or on a reply
 * that is neither. */
int qga_fs_frozen(qga_agent *agent, int64_t timeout_ms, snap_error *err);

/* Parses one agent reply: returns the new "return" member (json text
 * decoded by the caller) -- exposed for tests. On {"error":...} sets
 * SNAP_E_AGENT with the agent's class and description. */
bool qga_reply_string(const char *reply, char **value, snap_error *err);

#endif
