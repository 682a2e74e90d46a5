/* coordinator/cli/cli_events.c -- see cli_events.h. */
#include "coordinator/cli/cli_events.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/snap_log.h"
#include "common/snap_text.h"
#include "common/snap_time.h"
#include "coordinator/cli/cli.h"
#include "coordinator/coord_events.h"

#define FOLLOW_POLL_MS 500

static volatile sig_atomic_t stop;

static void
on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

/* One event: a JSON line, or a row of the table (every member escaped:
 * names and error texts came from outside). */
static void
print_event(const json_t *e, bool json)
{
    const char *result, *error;
    char *text;

    if (json) {
        text = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text)
            printf("%s\n", text);
        free(text);
        return;
    }
    result = json_string_value(json_object_get(e, "result"));
    error = json_string_value(json_object_get(e, "error"));
    printf("%-24s  %-24s  %-8s  %-15s  %-36s  %-16s  %s",
           cli_safe(json_string_value(json_object_get(e, "time"))),
           cli_safe(json_string_value(json_object_get(e, "actor"))),
           cli_safe(json_string_value(json_object_get(e, "action"))),
           cli_safe(json_string_value(json_object_get(e, "kind"))),
           cli_safe(json_string_value(json_object_get(e, "id"))),
           cli_safe(json_string_value(json_object_get(e, "domain"))),
           cli_safe(result));
    if (error) {
        fputs(": ", stdout);
        snap_text_fputs(error, stdout);
    }
    putchar('\n');
}

/* Prints @p; false when stdout is gone (a closed pipe: SIGPIPE is
 * ignored, so the write fails with EPIPE) or failed. */
static bool
print_page(const coord_events_page *p, bool json)
{
    size_t i;

    for (i = 0; i < json_array_size(p->events); i++)
        print_event(json_array_get(p->events, i), json);
    if (p->nbad)
        snap_warn("skipped %zu line%s of the audit log that %s no event",
                  p->nbad, p->nbad == 1 ? "" : "s",
                  p->nbad == 1 ? "is" : "are");
    return fflush(stdout) == 0 && !ferror(stdout);
}

/* True when stdout is a pipe whose reader went away (`... | head`): a
 * follow that prints nothing would not notice otherwise. */
static bool
stdout_gone(void)
{
    struct pollfd pfd = {STDOUT_FILENO, 0, 0};

    return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP));
}

/* Polls @t every FOLLOW_POLL_MS until SIGINT or SIGTERM (the user's wait)
 * or until stdout goes away. */
static int
follow(coord_events_tail *t, const coord_events_filter *f, bool json)
{
    struct sigaction sa;
    coord_events_page p;
    snap_error err = {0};
    int64_t waited;
    bool more;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, NULL); /* cannot fail for these */
    (void)sigaction(SIGTERM, &sa, NULL);
    while (!stop && !stdout_gone()) {
        if (!coord_events_tail_poll(t, f, &p, &err))
            return cli_fail(&err);
        more = p.more;
        if (!print_page(&p, json)) {
            coord_events_page_release(&p);
            return errno == EPIPE ? EXIT_SUCCESS : EXIT_FAILURE;
        }
        coord_events_page_release(&p);
        /* Short steps: a signal ends the wait at once. */
        for (waited = 0; !more && !stop && waited < FOLLOW_POLL_MS;
             waited += 50)
            snap_sleep_ms(50);
    }
    return EXIT_SUCCESS;
}

int
cli_cmd_events(ops_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},
        {"domain", required_argument, NULL, 'd'},
        {"kind", required_argument, NULL, 'k'},
        {"limit", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"follow", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    coord_events_filter f;
    coord_events_page p = {0};
    coord_events_tail *t = NULL;
    snap_error err = {0};
    bool json = false, follow_on = false, ok;
    uint64_t limit;
    int c, rc;

    coord_events_filter_init(&f);
    optind = 0; /* 0: GNU getopt reinitialises, permuting again */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (!coord_events_time_parse(optarg, snap_wall_ms(), &f.since_ms))
                return cli_usage_error("bad --since '%s': use an RFC 3339 "
                                       "time, milliseconds since the epoch "
                                       "or an age (90s, 15m, 2h, 7d)",
                                       optarg);
            break;
        case 'd':
            f.domain = optarg;
            break;
        case 'k':
            if (!coord_events_kind_valid(optarg))
                return cli_usage_error(
                    "bad --kind '%s': use set, copy, cinder-snapshot, "
                    "volume, domain, template, image, checkpoint, job or "
                    "state",
                    optarg);
            f.kind = optarg;
            break;
        case 'n':
            if (!cli_parse_u64(optarg, 1, COORD_EVENTS_LIMIT_MAX, &limit))
                return cli_usage_error("bad --limit '%s': use 1 to %d", optarg,
                                       COORD_EVENTS_LIMIT_MAX);
            f.limit = (size_t)limit;
            break;
        case 'j':
            json = true;
            break;
        case 'f':
            follow_on = true;
            break;
        default:
            return cli_usage_error("bad option for 'events'");
        }
    }
    if (optind < argc)
        return cli_usage_error("'events' takes no argument");
    if (follow_on)
        t = coord_events_tail_new(ctx->conf.catalog_dir, &f, &p, &err);
    ok = follow_on ? t != NULL
                   : coord_events_read(ctx->conf.catalog_dir, &f, &p, &err);
    if (!ok)
        return cli_fail(&err);
    if (!json)
        printf("%-24s  %-24s  %-8s  %-15s  %-36s  %-16s  %s\n", "TIME", "ACTOR",
               "ACTION", "KIND", "ID", "DOMAIN", "RESULT");
    /* With --since the first N are shown and the rest is missing (also
     * under --follow, which goes on from the end); without, the older ones
     * are, as expected. */
    if (p.more && f.since_ms >= 0)
        snap_warn("more events match: only the first %zu are shown (use "
                  "--limit, or a later --since)",
                  f.limit ? f.limit : (size_t)COORD_EVENTS_LIMIT_DEFAULT);
    if (!print_page(&p, json))
        rc = errno == EPIPE ? EXIT_SUCCESS : EXIT_FAILURE;
    else if (t)
        rc = follow(t, &f, json);
    else
        rc = EXIT_SUCCESS;
    coord_events_page_release(&p);
    coord_events_tail_free(t);
    return rc;
}
