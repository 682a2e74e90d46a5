/* qga/qga_libvirt.c -- see qga_libvirt.h. */
#include "qga/qga_libvirt.h"

#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>

/* libvirt's agent errors carry the reason in the message; an agent that
 * timed out or is not connected is SNAP_E_TIMEOUT / SNAP_E_AGENT. */
static void
set_virt_error(snap_error *err, const char *what)
{
    virErrorPtr e = virGetLastError();
    const char *msg = e && e->message ? e->message : "unknown libvirt error";
    snap_code code = SNAP_E_AGENT;

    if (e && e->code == VIR_ERR_AGENT_UNRESPONSIVE && strstr(msg, "timeout"))
        code = SNAP_E_TIMEOUT;
    else if (e && e->code == VIR_ERR_OPERATION_INVALID)
        code = SNAP_E_STATE;
    snap_error_set(err, code, "%s: %s", what, msg);
}

static bool
lv_set_timeout(void *impl, int timeout_s, snap_error *err)
{
    if (virDomainAgentSetResponseTimeout(impl, timeout_s, 0) < 0) {
        set_virt_error(err, "cannot set the guest agent timeout");
        return false;
    }
    return true;
}

static int
lv_fs_freeze(void *impl, const char *const *mounts, size_t n, snap_error *err)
{
    /* libvirt's prototype takes non-const strings it never modifies. */
    int r = virDomainFSFreeze(impl, (const char **)mounts, (unsigned)n, 0);

    if (r < 0)
        set_virt_error(err, "cannot freeze the guest's filesystems");
    return r;
}

static int
lv_fs_thaw(void *impl, snap_error *err)
{
    int r = virDomainFSThaw(impl, NULL, 0, 0);

    if (r < 0)
        set_virt_error(err, "cannot thaw the guest's filesystems");
    return r;
}

static char *
lv_command(void *impl, const char *cmd, int timeout_s, snap_error *err)
{
    char *reply = virDomainQemuAgentCommand(impl, cmd, timeout_s, 0);

    if (!reply)
        set_virt_error(err, "guest agent command failed");
    return reply;
}

const qga_transport_ops qga_libvirt_ops = {
    .set_timeout = lv_set_timeout,
    .fs_freeze = lv_fs_freeze,
    .fs_thaw = lv_fs_thaw,
    .command = lv_command,
};
