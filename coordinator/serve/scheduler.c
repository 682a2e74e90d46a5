/* coordinator/serve/scheduler.c -- see scheduler.h. */
#include "coordinator/serve/scheduler.h"

#include <stdlib.h>
#include <time.h>

#include "common/snap_time.h"
#include "coordinator/coord_policy.h"
#include "coordinator/serve/policy.h"
#include "coordinator/serve/state.h"

/* Runs the policies that have a schedule, one run at a time, until the
 * server stops. A run that is due while another runs starts after it. */
void *
serve_scheduler_main(void *arg)
{
    serve_state *st = arg;
    const coord_conf *conf = &st->conf;
    int64_t *next = calloc(conf->npolicies + 1, sizeof(*next));
    size_t i;

    if (!next) {
        serve_log("scheduler: out of memory: no policy will be scheduled");
        return NULL;
    }
    for (i = 0; i < conf->npolicies; i++) {
        next[i] =
            coord_schedule_next(&conf->policies[i].schedule, snap_wall_ms());
        if (next[i] > 0) {
            char when[40];

            serve_log("policy %s: next run %s", conf->policies[i].name,
                      snap_iso8601(next[i], when, sizeof(when)));
        }
    }
    pthread_mutex_lock(&st->mu);
    while (!atomic_load(&st->stopping)) {
        int64_t soonest = -1, now = snap_wall_ms();
        size_t due = conf->npolicies;
        struct timespec ts;

        for (i = 0; i < conf->npolicies; i++) {
            if (next[i] > 0 && (soonest < 0 || next[i] < soonest)) {
                soonest = next[i];
                due = i;
            }
        }
        if (soonest < 0)
            break; /* nothing to schedule */
        if (soonest > now) {
            ts.tv_sec = (time_t)(soonest / 1000);
            ts.tv_nsec = (long)(soonest % 1000) * 1000000L;
            pthread_cond_timedwait(&st->sched_cv, &st->mu, &ts);
            continue;
        }
        st->sched_running = true;
        pthread_mutex_unlock(&st->mu);
        {
            const coord_policy *p = &conf->policies[due];
            serve_target *targets = NULL;
            serve_vm_result *results = NULL;
            size_t n = 0, k, nfail = 0;
            snap_error err = {0};

            serve_log("policy %s: scheduled run starts", p->name);
            if (!serve_policy_execute(conf, p, st->api, &st->stopping, &targets,
                                      &results, &n, &err)) {
                serve_log("policy %s: %s", p->name, err.msg);
            } else {
                for (k = 0; k < n; k++) {
                    nfail += results[k].status == SERVE_VM_FAILED;
                    serve_log(
                        "policy %s: %s: %s%s%s%s%s", p->name, results[k].t.name,
                        serve_vm_status_name(results[k].status),
                        results[k].set_uuid[0] ? " set " : "",
                        results[k].set_uuid, results[k].error[0] ? ": " : "",
                        results[k].error);
                }
                serve_log("policy %s: %zu domain%s, %zu failed", p->name, n,
                          n == 1 ? "" : "s", nfail);
            }
            free(results);
            serve_targets_free(targets, n);
            next[due] = coord_schedule_next(&p->schedule, snap_wall_ms());
        }
        pthread_mutex_lock(&st->mu);
        st->sched_running = false;
        pthread_cond_broadcast(&st->idle_cv);
    }
    pthread_mutex_unlock(&st->mu);
    free(next);
    return NULL;
}
