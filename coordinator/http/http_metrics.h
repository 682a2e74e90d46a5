/* coordinator/http/http_metrics.h -- the server's counters and the page
 * of GET /metrics (Prometheus text): answers by status, sets made by
 * result and consistency, freeze and pause windows, deletions, and gauges
 * read from the catalog and the backend. Every function is thread-safe. */
#ifndef HTTP_METRICS_H
#define HTTP_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "coordinator/coord_set.h"
#include "coordinator/http/http_api.h"

typedef struct http_metrics http_metrics;

/* Returns new, zeroed counters (free with http_metrics_free()), or NULL
 * when out of memory. */
http_metrics *http_metrics_new(void);

/* Frees @m; NULL is fine. No other thread may use it any more. */
void http_metrics_free(http_metrics *m);

/* Counts an answer with status @code. */
void http_metrics_count(http_metrics *m, unsigned code);

/* Records a set made by the server (as http_api_observe_set()). */
void http_metrics_observe_set(http_metrics *m, const coord_set *set);

/* Records a deletion done by the server (as http_api_observe_delete()). */
void http_metrics_observe_delete(http_metrics *m, bool ok);

/* Records a verify the server ran (as http_api_observe_verify()). */
void http_metrics_observe_verify(http_metrics *m, int64_t wall_ms,
                                 size_t checked, size_t broken);

/* Writes the /metrics page: the counters of @m, and what @backend (its
 * list and stats ops, with @impl) says now. Returns false when out of
 * memory; else *@text is new (free()) and *@len its length. */
bool http_metrics_text(http_metrics *m, const http_backend_ops *backend,
                       void *impl, char **text, size_t *len);

#endif
