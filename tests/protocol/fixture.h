/* SPDX-License-Identifier: Apache-2.0 */
/* fixture.h - what the session tests of tests/protocol (test_cancel.c,
 * test_levels.c) share on top of the world: a world with one enrolled
 * signing key, the server's view of that key, a copy of its stored record
 * to compare with later, and the device's fetch of its waiting session. */
#ifndef SK_TEST_FIXTURE_H
#define SK_TEST_FIXTURE_H

#include "world.h"

/* A new world with one 4K signing key enrolled openly (PIN_SIGN) into *key
 * (NULL if the enrolment failed, which is counted as a failed check). */
world *fixture_new(sk_device_key **key);

/* The key id of key. */
void fixture_key_id(const sk_device_key *key, uint8_t *kid);

/* The key's state and attempts left as the server's record says now. */
sk_key_status fixture_status(world *w, const sk_device_key *key);

/* Keeps a copy of the key's stored record; returns its length (0: none). */
size_t fixture_snapshot(world *w, const sk_device_key *key);

/* The stored key record changed since fixture_snapshot (before_len its
 * length) in nothing but what every answer changes (version, OTP, its
 * history, the kept reply). */
bool fixture_only_otp_moved(world *w, const sk_device_key *key, size_t before_len);

/* The device fetches; returns the oldest waiting session or NULL. */
sk_device_session *fixture_fetch(world *w, sk_device_key *key);

#endif
