/* tests/fakes/fake_domain.h -- a scripted ops_domain_ops: a few domains in
 * memory (UUID, name, definition, run state), the calls each one got, and
 * failures a test asks for.
 *
 *     fake_domain_reset();
 *     fake_domain_add(UUID, "web", xml, OPS_DOMAIN_STATE_RUNNING);
 *     fake_domain_fail("start", 1);       // the next start() fails
 *     ctx.domain = &fake_domain_ops;
 *     ...
 *     assert_string_equal(fake_domain_xml(UUID), xml);  // as it was
 *
 * It behaves like libvirt where restore and spawn care: shutdown() makes a
 * running domain power off (wait_off() then sees it off), define() of a
 * known UUID replaces its definition, start() of a running domain fails.
 * A failed call says "fake: <op> refused" (SNAP_E_VIRT). Not thread-safe. */
#ifndef FAKE_DOMAIN_H
#define FAKE_DOMAIN_H

#include <stdbool.h>

#include "coordinator/ops/domain.h"

extern const ops_domain_ops fake_domain_ops;

/* Forgets every domain, call count, planned failure and hook. */
void fake_domain_reset(void);

/* Adds a persistent domain with definition @xml (copied). */
void fake_domain_add(const char *uuid, const char *name, const char *xml,
                     ops_domain_state state);

/* The @nth next call (1: the next one) of operation @op ("define",
 * "start", "destroy", "wait_off", "network_check", ...) fails. */
void fake_domain_fail(const char *op, int nth);

/* How many times @op was called. */
int fake_domain_calls(const char *op);

/* Calls @fn(@arg) at every call of @op, before the call does anything:
 * the moment a test changes the world under the code (NULL: no more). */
void fake_domain_on(const char *op, void (*fn)(void *arg), void *arg);

/* Gives domain @id a managed save image (libvirt keeps one for a domain
 * that is off), or takes it away; start() discards it, like libvirt. */
void fake_domain_set_managed_save(const char *id, bool saved);
bool fake_domain_managed_save(const char *id);

/* Domain @id (UUID or name): whether it is defined, its definition
 * (borrowed; NULL when undefined) and its state. */
bool fake_domain_exists(const char *id);
const char *fake_domain_xml(const char *id);
ops_domain_state fake_domain_state(const char *id);

#endif
