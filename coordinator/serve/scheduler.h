/* coordinator/serve/scheduler.h -- the policies' schedules in `snapset
 * serve`. */
#ifndef SERVE_SCHEDULER_H
#define SERVE_SCHEDULER_H

/* A thread's body (@arg: the serve_state): runs the policies that have a
 * schedule, one run at a time, until the server stops. A run that is due
 * while another runs starts after it. */
void *serve_scheduler_main(void *arg);

#endif
