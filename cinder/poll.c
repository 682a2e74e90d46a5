/* cinder/poll.c -- one poller for many Cinder objects under one deadline.
 *
 * Used while the guest is frozen, so it aims at noticing quickly that every
 * snapshot has been taken while costing Cinder little: the first rounds come
 * fast (poll_min_ms, ~10 ms) and the interval grows by half each round up to
 * frozen_poll_max_ms (20 ms) for snapshots being taken, poll_max_ms (~250 ms)
 * for every other wait. bench/ measured the cap: at 250 ms the last poll came
 * 34-123 ms after the last snapshot was done, at 20 ms 24-35 ms, and Cinder
 * did not get slower for the extra list requests. With a shared metadata pair
 * and microversion
 * >= 3.22 a round is one list request whatever the number of snapshots;
 * otherwise the per-id GETs of a round go out at once (perform-many). Every
 * request is bounded by what is left of the deadline.
 */
#include "cinder/cinder_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_time.h"

#define POLL_REQUEST_TIMEOUT_MS 10000

const cinder_poll_kind cinder_poll_snapshot = {"snapshot", "snapshots",
                                               "snapshot"};
const cinder_poll_kind cinder_poll_group_snapshot = {
    "group snapshot", "group_snapshots", "group_snapshot"};
const cinder_poll_kind cinder_poll_volume = {"volume", "volumes", "volume"};

typedef struct poll_item {
    const char *id;
    char status[32];
    char volume_id[64];
    bool seen; /* status learned this round */
    bool gone; /* answered 404 */
    bool done;
    int64_t done_ms;
} poll_item;

typedef enum verdict {
    VERDICT_PENDING = 0,
    VERDICT_OK,
    VERDICT_FAIL,
} verdict;

/* A failure worth retrying until the deadline: the transport failed, or the
 * service had a 5xx moment. */
static bool
transient(const cinder_http_response *resp, bool ok)
{
    return !ok || resp->status >= 500;
}

static void
item_update(poll_item *it, json_t *obj)
{
    const char *status = json_string_value(json_object_get(obj, "status"));
    const char *vol = json_string_value(json_object_get(obj, "volume_id"));

    if (!status)
        return;
    snprintf(it->status, sizeof(it->status), "%s", status);
    if (vol)
        snprintf(it->volume_id, sizeof(it->volume_id), "%s", vol);
    it->seen = true;
}

static verdict
judge(const poll_item *it, cinder_poll_mode mode, const char *target)
{
    switch (mode) {
    case CINDER_POLL_LEAVE:
        if (it->gone)
            return VERDICT_FAIL;
        if (strcmp(it->status, "creating") == 0)
            return VERDICT_PENDING;
        return strcmp(it->status, "available") == 0 ? VERDICT_OK : VERDICT_FAIL;
    case CINDER_POLL_REACH:
        if (it->gone || strncmp(it->status, "error", 5) == 0)
            return VERDICT_FAIL;
        return strcmp(it->status, target) == 0 ? VERDICT_OK : VERDICT_PENDING;
    case CINDER_POLL_GONE:
        if (it->gone)
            return VERDICT_OK;
        return strncmp(it->status, "error", 5) == 0 ? VERDICT_FAIL
                                                    : VERDICT_PENDING;
    }
    return VERDICT_FAIL;
}

static bool
report_failure(const cinder_poll_kind *kind, const poll_item *it,
               cinder_poll_mode mode, snap_error *err)
{
    char of[96] = "";

    if (it->volume_id[0])
        snprintf(of, sizeof(of), " of volume '%s'", it->volume_id);
    if (it->gone)
        return snap_error_set(
            err, SNAP_E_NOTFOUND, "%s '%s'%s vanished while %s", kind->noun,
            it->id, of,
            mode == CINDER_POLL_LEAVE ? "being created" : "waited for");
    if (mode == CINDER_POLL_GONE)
        return snap_error_set(err, SNAP_E_STATE,
                              "%s '%s'%s could not be deleted: status '%s'",
                              kind->noun, it->id, of, it->status);
    return snap_error_set(err, SNAP_E_STATE, "%s '%s'%s failed: status '%s'",
                          kind->noun, it->id, of, it->status);
}

/* One list request for the whole set (snapshots, >= 3.22). Returns false
 * with @err set on a fatal failure; a transient one goes to @last and
 * leaves *@listed false, so that the round ends there rather than send N
 * more requests to a struggling service. */
static bool
list_round(cinder_client *c, const char *path, poll_item *items, size_t n,
           int64_t timeout_ms, bool *listed, snap_error *last, snap_error *err)
{
    const char *what = "cannot list snapshots while waiting";
    cinder_http_response resp;
    snap_error terr = {0};
    json_t *reply = NULL, *list, *obj;
    const char *id;
    cinder_call call;
    bool ok, ret = false;
    size_t i, j;

    *listed = false;
    cinder_http_response_init(&resp);
    if (!cinder_call_init(c, &call, CINDER_HTTP_GET, path, NULL, timeout_ms,
                          err))
        return false;
    ok = cinder_session_request(c->session, &call.req, &resp, &terr);
    if (transient(&resp, ok)) {
        snap_error_clear(last);
        cinder_call_result(&resp, ok, &terr, what, last);
        ret = true;
        goto cleanup;
    }
    reply = cinder_call_result(&resp, ok, &terr, what, err);
    if (!reply)
        goto cleanup;
    list = json_object_get(reply, "snapshots");
    if (!json_is_array(list)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "%s: malformed reply: no list 'snapshots'", what);
        goto cleanup;
    }
    json_array_foreach(list, j, obj)
    {
        id = json_string_value(json_object_get(obj, "id"));
        if (!id)
            continue;
        for (i = 0; i < n; i++) {
            if (!items[i].done && strcmp(items[i].id, id) == 0)
                item_update(&items[i], obj);
        }
    }
    *listed = true;
    ret = true;

cleanup:
    json_decref(reply);
    cinder_http_response_release(&resp);
    cinder_call_release(&call);
    return ret;
}

/* Per-id GETs, all at once, for the pending items not seen in this round. */
static bool
id_round(cinder_client *c, const cinder_poll_kind *kind, poll_item *items,
         size_t n, int64_t timeout_ms, snap_error *last, snap_error *err)
{
    cinder_call *calls = NULL;
    cinder_http_request *reqs = NULL;
    cinder_http_response *resps = NULL;
    snap_error *terrs = NULL;
    size_t *which = NULL;
    bool *oks = NULL;
    json_t *reply = NULL, *obj;
    size_t i, k, m = 0;
    char path[320], what[160];
    bool ret = false;

    for (i = 0; i < n; i++) {
        if (!items[i].done && !items[i].seen)
            m++;
    }
    if (m == 0)
        return true;
    calls = calloc(m, sizeof(*calls));
    reqs = calloc(m, sizeof(*reqs));
    resps = calloc(m, sizeof(*resps));
    terrs = calloc(m, sizeof(*terrs));
    which = calloc(m, sizeof(*which));
    oks = calloc(m, sizeof(*oks));
    if (!calls || !reqs || !resps || !terrs || !which || !oks) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0, k = 0; i < n; i++) {
        if (items[i].done || items[i].seen)
            continue;
        which[k] = i;
        snprintf(path, sizeof(path), "/%s/%s", kind->collection, items[i].id);
        if (!cinder_call_init(c, &calls[k], CINDER_HTTP_GET, path, NULL,
                              timeout_ms, err))
            goto cleanup;
        reqs[k] = calls[k].req;
        k++;
    }
    if (!cinder_session_request_many(c->session, reqs, resps, terrs, oks, m,
                                     err))
        goto cleanup;
    for (k = 0; k < m; k++) {
        poll_item *it = &items[which[k]];

        snprintf(what, sizeof(what), "cannot show %s '%s'", kind->noun, it->id);
        if (transient(&resps[k], oks[k])) {
            snap_error_clear(last);
            cinder_call_result(&resps[k], oks[k], &terrs[k], what, last);
            continue;
        }
        if (resps[k].status == 404) {
            it->gone = true;
            it->seen = true;
            continue;
        }
        reply = cinder_call_result(&resps[k], oks[k], &terrs[k], what, err);
        if (!reply)
            goto cleanup;
        obj = json_object_get(reply, kind->key);
        if (!json_is_object(obj) ||
            !json_is_string(json_object_get(obj, "status"))) {
            snap_error_set(err, SNAP_E_INVALID,
                           "%s: malformed reply: no status", what);
            goto cleanup;
        }
        item_update(it, obj);
        json_decref(reply);
        reply = NULL;
    }
    ret = true;

cleanup:
    json_decref(reply);
    if (calls) {
        for (k = 0; k < m; k++)
            cinder_call_release(&calls[k]);
    }
    if (resps) {
        for (k = 0; k < m; k++)
            cinder_http_response_release(&resps[k]);
    }
    free(calls);
    free(reqs);
    free(resps);
    free(terrs);
    free(which);
    free(oks);
    return ret;
}

static const char *
mode_goal(cinder_poll_mode mode, const char *target, char *buf, size_t size)
{
    switch (mode) {
    case CINDER_POLL_LEAVE:
        return "to leave 'creating'";
    case CINDER_POLL_REACH:
        snprintf(buf, size, "to become '%.32s'", target);
        return buf;
    default:
        return "to be deleted";
    }
}

static bool
report_timeout(const cinder_poll_kind *kind, const poll_item *items, size_t n,
               cinder_poll_mode mode, const char *target, int64_t waited_ms,
               const snap_error *last, snap_error *err)
{
    char ids[100] = "", goal[64];
    size_t i, pending = 0, len;

    for (i = 0; i < n; i++) {
        if (items[i].done)
            continue;
        pending++;
        len = strlen(ids);
        if (pending <= 2)
            snprintf(ids + len, sizeof(ids) - len, "%s'%s'",
                     pending > 1 ? ", " : "", items[i].id);
        else if (pending == 3)
            snprintf(ids + len, sizeof(ids) - len, ", ...");
    }
    return snap_error_set(
        err, SNAP_E_TIMEOUT,
        "timed out after %lld ms waiting for %zu of %zu %s%s %s "
        "(%s)%s%s",
        (long long)waited_ms, pending, n, kind->noun, n == 1 ? "" : "s",
        mode_goal(mode, target, goal, sizeof(goal)), ids,
        snap_error_isset(last) ? "; last error: " : "",
        snap_error_isset(last) ? last->msg : "");
}

bool
cinder_poll(cinder_client *c, const cinder_poll_kind *kind,
            const char *const *ids, size_t n, cinder_poll_mode mode,
            const char *target, const cinder_kv *filter, int64_t deadline_ms,
            cinder_wait_result *results, snap_error *err)
{
    poll_item *items = NULL;
    snap_error last = {0};
    char *list_path = NULL;
    int64_t start = snap_now_ms(), interval, cap, now, left, timeout;
    size_t i, ndone = 0;
    bool ret = false, failed = false, listed;
    verdict v;

    if (!c || !kind || (n > 0 && !ids) ||
        (mode == CINDER_POLL_REACH && !target))
        return snap_error_set(err, SNAP_E_INVALID, "invalid wait request");
    for (i = 0; i < n; i++) {
        if (!cinder_check_id(ids[i], kind->noun, err))
            return false;
    }
    if (results)
        memset(results, 0, n * sizeof(*results));
    if (n == 0)
        return true;
    items = calloc(n, sizeof(*items));
    if (!items)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    for (i = 0; i < n; i++)
        items[i].id = ids[i];
    if (filter && filter->key && filter->value &&
        kind == &cinder_poll_snapshot && c->mv >= CINDER_MV(3, 22)) {
        list_path = cinder_metadata_query("/snapshots/detail", filter, 1, err);
        if (!list_path)
            goto cleanup;
    }

    /* A snapshot leaving "creating" is what a frozen guest waits for: a
     * poll late by the whole interval is added to the frozen window. (The
     * direct RBD registrations after the thaw are waited for the same way:
     * paced at poll_max_ms they were available later, not sooner:
     * bench/results/direct-settle.) */
    cap = mode == CINDER_POLL_LEAVE ? c->frozen_poll_max_ms : c->poll_max_ms;
    interval = c->poll_min_ms;
    for (;;) {
        left = snap_ms_left(deadline_ms);
        timeout = c->request_timeout_ms > 0 ? c->request_timeout_ms
                                            : POLL_REQUEST_TIMEOUT_MS;
        if (timeout > left)
            timeout = left > 0 ? left : 1;
        for (i = 0; i < n; i++)
            items[i].seen = false;
        listed = true;
        if (list_path &&
            !list_round(c, list_path, items, n, timeout, &listed, &last, err))
            goto cleanup;
        if (listed && !id_round(c, kind, items, n, timeout, &last, err))
            goto cleanup;
        now = snap_now_ms();
        for (i = 0; i < n; i++) {
            if (items[i].done || !items[i].seen)
                continue;
            v = judge(&items[i], mode, target);
            if (v == VERDICT_PENDING)
                continue;
            items[i].done = true;
            items[i].done_ms = now;
            ndone++;
            if (v == VERDICT_FAIL && !failed) {
                report_failure(kind, &items[i], mode, err);
                failed = true;
            }
        }
        if (failed)
            goto cleanup;
        if (ndone == n) {
            ret = true;
            goto cleanup;
        }
        left = snap_ms_left(deadline_ms);
        if (left <= 0) {
            report_timeout(kind, items, n, mode, target, now - start, &last,
                           err);
            goto cleanup;
        }
        snap_sleep_ms(interval < left ? interval : left);
        interval += interval / 2 + 1;
        if (interval > cap)
            interval = cap;
    }

cleanup:
    if (results) {
        for (i = 0; i < n; i++) {
            snprintf(results[i].status, sizeof(results[i].status), "%s",
                     items[i].gone ? "deleted" : items[i].status);
            results[i].done_ms = items[i].done_ms;
        }
    }
    free(list_path);
    free(items);
    return ret;
}
