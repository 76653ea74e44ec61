/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splitkey.pml - a Promela model of protocol v2 between the device (a phone
 * holding one key share behind a PIN) and the share server (worker
 * processes over one key record in a store with compare-and-swap).
 *
 * doc/model.md explains the model, its bounds and its properties.  Each
 * transition names, in a comment, the C function it stands for.
 *
 * Configurations (exactly one -D; tests/model/CMakeLists.txt runs each):
 *   CFG_PIN     one device, two workers, losses, copies, worker and device
 *               crashes, early retries, PIN checks from every interesting
 *               failure count                                 (P1 P2 P4 P5)
 *   CFG_NET     one device, two workers, three requests, losses, copies
 *               (replays), plain error frames                       (P4 P5)
 *   CFG_CLONE   the device and a copy of its sealed state taken at any
 *               moment, acting on its own                  (P3, P1 P2 P5)
 *   CFG_TWODEV  two commands on one device state: two device processes
 *               sharing the sealed state (lock + version check)    (P4 P5)
 *   CFG_RP      two relying parties creating and polling sessions      (P6)
 *
 * Properties: the assertions tagged P1 ... P6 below (the tag is on the
 * assertion's line; tests/model/run_spin.sh reads it from there).
 *   P1  every PIN check is counted exactly once, and every check under one
 *       charge checks the attempt that charge was made for
 *   P2  locks at 3 and 6 failures, destruction at 9, no PIN check decided
 *       on a destroyed key, at most 9 wrong PINs
 *   P3  after the clone completed a request of its own, or another request
 *       under the request id it copied, the original's next request ends in
 *       CLONE_DETECTED / DESTROYED (a CHALLENGE first at most), never in a
 *       normal reply or an endless try-again
 *   P4  no clone verdict for an honest device (faults and crashes only), and
 *       it always completes its requests (bounded liveness, see the device's
 *       timeout retry)
 *   P5  an acknowledged signature is never lost
 *   P6  a relying party gets results only of sessions it created
 */

/* ------------------------------------------------------------ configurations */

#ifdef CFG_PIN
#ifndef NWORK
#define NWORK 2
#endif
#ifndef NCMD
#define NCMD 2
#endif
#ifndef DROPS
#define DROPS 1
#endif
#ifndef DUPS
#define DUPS 2
#endif
#ifndef PLAINS
#define PLAINS 0
#endif
#ifndef WCRASH
#define WCRASH 2
#endif
#ifndef DCRASH
#define DCRASH 1
#endif
#ifndef EARLY
#define EARLY 1
#endif
#ifndef FAIL0_ANY
#define FAIL0_ANY 1
#endif
#endif

#ifdef CFG_NET
#ifndef NWORK
#define NWORK 2
#endif
#ifndef NCMD
#define NCMD 3
#endif
#ifndef DROPS
#define DROPS 1
#endif
#ifndef DUPS
#define DUPS 2
#endif
#ifndef PLAINS
#define PLAINS 1
#endif
#ifndef WCRASH
#define WCRASH 0
#endif
#ifndef DCRASH
#define DCRASH 0
#endif
#ifndef EARLY
#define EARLY 0
#endif
#endif

#ifdef CFG_CLONE
#define HAVE_CLONE 1
#ifndef NWORK
#define NWORK 1
#endif
#ifndef NCMD
#define NCMD 2
#endif
#ifndef DROPS
#define DROPS 1
#endif
#ifndef DUPS
#define DUPS 1
#endif
#ifndef PLAINS
#define PLAINS 0
#endif
#ifndef WCRASH
#define WCRASH 0
#endif
#ifndef DCRASH
#define DCRASH 0
#endif
#ifndef EARLY
#define EARLY 0
#endif
#ifndef CL_SENDS
#define CL_SENDS 2
#endif
#endif

#ifdef CFG_TWODEV
#define TWODEV 1
#ifndef NWORK
#define NWORK 2
#endif
#ifndef NCMD
#define NCMD 2
#endif
#ifndef DROPS
#define DROPS 1
#endif
#ifndef DUPS
#define DUPS 1
#endif
#ifndef PLAINS
#define PLAINS 1
#endif
#ifndef WCRASH
#define WCRASH 1
#endif
#ifndef DCRASH
#define DCRASH 1
#endif
#ifndef EARLY
#define EARLY 0
#endif
#endif

#ifdef CFG_RP
#define HAVE_RP 1
#ifndef NWORK
#define NWORK 2
#endif
#ifndef NCMD
#define NCMD 2
#endif
#ifndef DROPS
#define DROPS 1
#endif
#ifndef DUPS
#define DUPS 1
#endif
#ifndef PLAINS
#define PLAINS 0
#endif
#ifndef WCRASH
#define WCRASH 1
#endif
#ifndef DCRASH
#define DCRASH 0
#endif
#ifndef EARLY
#define EARLY 0
#endif
#endif

/* defaults for whatever the configuration left open */
#ifndef H
#define H 2            /* retired OTPs the server keeps (hist) */
#endif
#ifndef NWORK
#define NWORK 2        /* server workers */
#endif
#ifndef NCMD
#define NCMD 2         /* commands the device (both devices together) start */
#endif
#ifndef DROPS
#define DROPS 1        /* messages the network may lose */
#endif
#ifndef DUPS
#define DUPS 1         /* messages the network may copy (duplicate; the copy
                          may be delivered much later: a replay) */
#endif
#ifndef PLAINS
#define PLAINS 0       /* unauthenticated error frames the network may inject */
#endif
#ifndef WCRASH
#define WCRASH 1       /* worker crashes */
#endif
#ifndef DCRASH
#define DCRASH 1       /* device crashes */
#endif
#ifndef EARLY
#define EARLY 1        /* retries before any timeout (the first copy is slow) */
#endif
#ifndef CL_SENDS
#define CL_SENDS 2     /* messages the clone sends */
#endif
#ifndef HAVE_CLONE
#define HAVE_CLONE 0
#endif
#ifndef CLONE_EAVESDROP
#define CLONE_EAVESDROP 0  /* the clone may read replies to others' requests */
#endif
#ifndef CLONE_OTHER_SESSION
#define CLONE_OTHER_SESSION 0  /* under the copied id the clone may also sign
                                  another session (same kind, other binding) */
#endif
#ifndef TWODEV
#define TWODEV 0
#endif
#ifndef HAVE_RP
#define HAVE_RP 0
#endif
#ifndef FAIL0_ANY
#define FAIL0_ANY 0
#endif
/* retries on timeout: one per fault that can swallow a request or a reply,
 * one for a CHALLENGE round, one spare */
#ifndef TO_MAX
#define TO_MAX (DROPS + WCRASH + DCRASH + 2)
#endif

#define QN 3           /* capacity of each direction of the network (the
                          reply pickers below spell out its 3 slots) */

/* ------------------------------------------------------------------ mutants */
/* One known defect each (-D on top of a configuration):
 * M1 MUTANT_UNCOUNTED     the PIN check runs first; its result and the
 *                         failure count are written together; on a CAS
 *                         conflict the result is thrown away, nothing is
 *                         counted, and the request is handled again      P1
 * M2 MUTANT_CHARGE_AFTER  the check is decided and answered first, the
 *                         failure counted after, in a separate write that
 *                         a conflict or a crash loses                     P1
 * M3 MUTANT_COUNTER       clone detection by a monotonic counter: a request
 *                         whose counter is not above the last one seen is
 *                         a replay (plain error, no verdict); a copy may
 *                         jump its counter ahead                          P3
 * M4 MUTANT_ANY_REPLY     the device takes the OTP of any authentic reply,
 *                         whatever request it answers                     P4
 * M5 MUTANT_NO_CHALLENGE  an older request id under a retired OTP is a
 *                         clone at once (rule 2a without the challenge)   P4
 * M6 MUTANT_NOLOCK and MUTANT_NOVERCHECK: two commands on one device
 *                         state, neither the lock nor the version check   P4
 * M7 MUTANT_SEND_FIRST    the reply of a PIN check goes out before the
 *                         record is stored                                P5
 * M8 MUTANT_RP_ANY        a relying party's poll answers any session      P6
 * M9 MUTANT_LEASE_ANY_Y   the lease keeps no attempt: a continuation
 *                         checks the partial signature y it carries       P1
 * M10 MUTANT_UNBOUND_BODY no request binding: the record, the lease and
 *                         the replies name only the request id, so
 *                         another request under the newest request's id
 *                         and OTP is a resend, and the device takes any
 *                         reply naming its request id                     P3
 *     DEVICE_TYPE_CHECK   (with M10 only) the device also refuses a typed
 *                         reply (OK, DONE) to another kind of request; with
 *                         P3_LIVENESS_ONLY (no server-side P3 assertion)
 *                         it shows where M10 leaves the original
 *
 * A stricter reading of P1 that the protocol does not meet, accepted
 * (doc/model.md, "Findings"):
 * FINDING_LIVE_CHARGE     a check runs only while its charge is undecided
 *                         and the key alive (the check reads no record)
 */

/* ---------------------------------------------------------------- constants */

#define K_FETCH 0      /* non-PIN kinds: fetch, key state, OTP refresh, ... */
#define K_SIGN  1      /* PIN kinds: approve (sign), revoke */

#define SRC_DEV    0   /* ghost: who made a request (the server never reads it) */
#define SRC_CLONE  1   /* the clone: a request of its own, or the copied one as is */
#define SRC_FORGED 2   /* the clone: another request under the copied id */

/* reply statuses */
#define R_OK        1  /* signature + new OTP */
#define R_DONE      2  /* the reply of a non-PIN kind + new OTP */
#define R_WRONG     3  /* WRONG_PIN + new OTP */
#define R_LOCKED    4  /* LOCKED + new OTP */
#define R_DESTROYED 5  /* DESTROYED + new OTP */
#define R_CLONE     6  /* CLONE_DETECTED + new OTP */
#define R_CHALLENGE 7  /* try again with this challenge; no OTP */
#define R_ERR       8  /* an error (session already complete) + new OTP */
#define R_PLAIN     9  /* an unauthenticated error frame */

/* classification */
#define C_FRESH   1
#define C_CONT    2
#define C_RESEND  3
#define C_CHAL    4
#define C_CLONE   5
#define C_OLD     6    /* a non-newest retired (otp, rid): challenge or clone */
#define C_UNKNOWN 7    /* an OTP the server does not know */
#define C_REPLAY  8    /* M3 only */

/* what a worker does next */
#define P_NONE   0
#define P_SEND   1     /* send rep */
#define P_CHECK  2     /* the PIN check (reads no record) */
#define P_ROTATE 3     /* CAS: retire the OTP, reply rep's status */
#define P_CHARGE 4     /* CAS: phase A */
#define P_DECIDE 5     /* CAS: phase C */
#define P_CLONE  6     /* CAS: the clone verdict */
#define P_COUNT  7     /* CAS: M2's separate count */

#define D_LOCKOUT 1
#define D_CLONE   2

#define CRID0 5        /* the clone's own request ids are 5..7, the device's
                          1..4 (random 128-bit ids do not collide) */
#define JUNK_OTP 7     /* an OTP the clone makes up (never issued) */

/* a request: rid (3 bits), otp (3), kind, PIN attempt right?, challenge
 * attached?, ghost source (2), session id, connection (which device
 * process sent it; the reply goes back on it) */
#define REQ(rid, otp, kind, pin, chal, src, sid) \
  ((rid) | ((otp) << 3) | ((kind) << 6) | ((pin) << 7) | ((chal) << 8) | ((src) << 9) | ((sid) << 11))
#define CONN(c) ((c) << 12)
#define MRID  (m & 7)
#define MOTP  ((m >> 3) & 7)
#define MKIND ((m >> 6) & 1)
#define MPIN  ((m >> 7) & 1)
#define MCHAL ((m >> 8) & 1)
#define MSRC  ((m >> 9) & 3)
#define MSID  ((m >> 11) & 1)
#define MCONN ((m >> 12) & 1)
/* the request's binding (skp_request_binding): what every retry of it keeps
 * the same - for a PIN kind its type and session (never the attempt y),
 * for a non-PIN kind its type and whole body (in the model: its kind) */
#define BIND(kind, sid) ((kind) | ((sid) << 1))
#define MBIND BIND(MKIND, MSID)

/* a reply: rid, status (4 bits), new otp, connection, the binding of the
 * request it answers (DeviceReply.request_hash; its low bit is the kind) */
#define REPLY(rid, st, otp) ((rid) | ((st) << 3) | ((otp) << 7))
#define RCONN(c) ((c) << 10)
#define RBIND(b) ((b) << 11)
#define RB(r)   (((r) >> 11) & 3)
#define RK(r)   (((r) >> 11) & 1)
#define RRID(r) ((r) & 7)
#define RST(r)  (((r) >> 3) & 15)
#define ROTP(r) (((r) >> 7) & 7)
#define RON(r)  (((r) >> 10) & 1)

/* ---------------------------------------------------------------- the store */
/* One key record (KeyRecord), shared by the workers; every write is a
 * compare-and-swap on s_ver (sk_store_key_update). */
byte s_ver;            /* version */
byte s_otp;            /* current OTP (an epoch number) */
byte h_otp[H];         /* retired OTPs, oldest first, the newest at H-1 */
byte h_rid[H];         /* the request that retired each one (0: empty) */
byte s_rep;            /* status of the stored reply to the newest */
byte s_rbind;          /* binding of the newest request (last_binding) */
byte s_fail;           /* failure count */
byte s_lock;           /* 0 unlocked, 1 locked 3 h, 2 locked 24 h */
byte s_dead;           /* 0 alive, D_LOCKOUT, D_CLONE */
byte l_rid;            /* lease: request id (0: none) */
byte l_otp;            /* lease: the OTP it carried */
byte l_bind;           /* lease: the binding of the charged request */
bit  l_pin;            /* lease: the attempt charged (lease_y, sealed) */
bit  s_sess[2];        /* session records: 1 = COMPLETE (never reset) */
#if HAVE_RP
bit  sess_made[2];     /* the session exists */
byte sess_rp[2];       /* its creator: relying party 1 or 2 */
#endif

/* ------------------------------------------------------------------ ghosts */
bit  g_clonerot;       /* P3: the clone completed a request of its own, or
                          another request under the id it copied */
byte g_wrong;          /* P1 P2: wrong outcomes applied since the last right one */
byte g_chg[8];         /* P1: per request id, 1 + the OTP its charge was made under */
byte g_chy;            /* P1: bit rid: the attempt its charge was made for */
byte g_ok;             /* P5: bit rid: OK sent for the device's request rid */

/* ----------------------------------------------------------------- network */
short rq[QN];          /* requests: a bag kept sorted (0 = free, at the end) */
short rp[QN];          /* replies: the same */
byte drops = DROPS, dups = DUPS, plains = PLAINS;
byte wcrash = WCRASH;

/* ------------------------------------------------------------ device state */
/* sealed and persisted (sk_device_key_seal), shared by the device processes */
byte d_otp;            /* the OTP it holds */
byte d_rid;            /* pending request id, 0 none */
byte d_kind;           /* pending request's kind */
bit  d_sid;            /* pending request's session */
byte d_ver = 1;        /* version of the sealed blob */
byte d_lock;           /* the exclusive lock: holder, 0 free */
bit  d_gone;           /* the device learned that its key is destroyed */
byte d_cmds;           /* commands started */
byte d_next = 1;       /* next request id */
byte d_early = EARLY, d_crash = DCRASH, d_to;

byte hj, bt, cls;  /* scratch, only inside atomic sequences (always 0 outside) */

/* ------------------------------------------------------------------ the bags */
/* (cpp macros: an inline cannot take an array.)
 * bag_put(b, v): put v into bag b, kept sorted (descending, free slots at
 * the end) so that one multiset is one state; the caller made sure there
 * is room and v is not an element of b.  bag_del(b, k): remove slot k.
 * bag_pick(b, k): k := any occupied slot (the caller made sure b[0] != 0). */
#define bag_put(b, v) \
  bt = QN - 1; \
  do \
  :: bt > 0 && b[bt - 1] < (v) -> b[bt] = b[bt - 1]; bt-- \
  :: else -> break \
  od; \
  b[bt] = (v); \
  bt = 0

#define bag_del(b, k) \
  bt = k; \
  do \
  :: bt < QN - 1 -> b[bt] = b[bt + 1]; bt++ \
  :: else -> break \
  od; \
  b[QN - 1] = 0; \
  bt = 0

#define bag_pick(b, k) \
  k = 0; \
  do \
  :: k < QN - 1 && b[k + 1] != 0 -> k++ \
  :: break \
  od

#define ROOM(b) (b[QN - 1] == 0)

/* ------------------------------------------------------ the readable trail */
/* printf runs only when a trail is replayed (spin -t), never in pan. */
inline say_st(st) {
  if
  :: st == R_OK -> printf("OK+signature")
  :: st == R_DONE -> printf("DONE")
  :: st == R_WRONG -> printf("WRONG_PIN")
  :: st == R_LOCKED -> printf("LOCKED")
  :: st == R_DESTROYED -> printf("DESTROYED")
  :: st == R_CLONE -> printf("CLONE_DETECTED")
  :: st == R_CHALLENGE -> printf("CHALLENGE")
  :: st == R_ERR -> printf("ERROR(session complete)")
  :: st == R_PLAIN -> printf("plain error")
  :: else -> printf("?")
  fi
}

inline say_req(x) {
  printf("rid %d otp %d ", (x) & 7, ((x) >> 3) & 7);
  if
  :: ((x) >> 6) & 1 -> printf("sign(PIN %d) ", ((x) >> 7) & 1)
  :: else -> printf("fetch ")
  fi;
  if
  :: ((x) >> 8) & 1 -> printf("+challenge ")
  :: else -> skip
  fi;
  if
  :: (((x) >> 9) & 3) == SRC_DEV -> printf("[device]")
  :: (((x) >> 9) & 3) == SRC_CLONE -> printf("[clone]")
  :: else -> printf("[clone, another request under the copied id]")
  fi
}

inline say_rec() {
  printf("    record v%d: otp %d hist {%d:%d} {%d:%d} fail %d lock %d dead %d lease %d:%d\n",
         s_ver, s_otp, h_otp[0], h_rid[0], h_otp[H - 1], h_rid[H - 1], s_fail, s_lock,
         s_dead, l_rid, l_otp)
}

/* -------------------------------------------------------- the server role */

/* the request continues the charged check: the lease's request id, OTP
 * and binding (classify, handle.c) */
#ifdef MUTANT_UNBOUND_BODY
/* M10: id and OTP only (any PIN kind continues the charge) */
#define IS_CONT (l_rid != 0 && MRID == l_rid && MOTP == l_otp && MKIND == K_SIGN)
#else
#define IS_CONT (l_rid != 0 && MRID == l_rid && MOTP == l_otp && MBIND == l_bind)
#endif

/* sk_server_handle_device: how an authentic request stands (classify,
 * libsplitkey/src/protocol/server/handle.c) */
inline classify() {
#ifdef MUTANT_COUNTER
  /* M3: the OTP field read as a counter that only grows */
  if
  :: IS_CONT -> cls = C_CONT
  :: !IS_CONT && MOTP < s_otp ->
     cls = C_REPLAY                     /* "a replay": plain error, no verdict */
  :: else -> cls = C_FRESH              /* accepted; the counter follows it */
  fi
#else
  if
  :: IS_CONT -> cls = C_CONT
  :: l_rid != 0 && !IS_CONT && MOTP == s_otp ->
     cls = C_CLONE    /* the charged request holds this OTP: another request
                         under it, or another message under its id */
  :: else ->
     if
     :: MOTP == s_otp -> cls = C_FRESH
     :: else ->
        cls = C_UNKNOWN;
        hj = 0;
        do
        :: hj < H && h_rid[hj] != 0 && h_otp[hj] == MOTP ->
           if
           :: h_rid[hj] == MRID && hj == H - 1 -> cls = C_RESEND
           :: h_rid[hj] == MRID && hj != H - 1 -> cls = C_OLD
           :: h_rid[hj] != MRID -> cls = C_CLONE  /* two requests under one OTP */
           fi;
           break
        :: hj < H && !(h_rid[hj] != 0 && h_otp[hj] == MOTP) -> hj++
        :: hj >= H -> break
        od;
        hj = 0;
        if
#ifdef MUTANT_NO_CHALLENGE
        :: cls == C_OLD -> cls = C_CLONE
#else
        :: cls == C_OLD && MCHAL -> cls = C_CLONE
        :: cls == C_OLD && !MCHAL -> cls = C_CHAL
#endif
        :: cls == C_UNKNOWN && MCHAL -> cls = C_CLONE
        :: cls == C_UNKNOWN && !MCHAL -> cls = C_CHAL
#ifndef MUTANT_UNBOUND_BODY
        :: cls == C_RESEND && MBIND != s_rbind -> cls = C_CLONE  /* the newest id and OTP, another binding */
#endif
        :: else -> skip
        fi
     fi
  fi
#endif
}

/* sk_server_handle_device: classification, then what to do, on a fresh
 * read of the record (the CAS of the write that follows fails if the
 * record changes meanwhile).  res: the result of a check already made. */
inline decide() {
  ver = s_ver;
  classify();
  if
  :: cls == C_CONT ->
     if
     :: s_dead -> plan = P_SEND; rep = REPLY(MRID, R_DESTROYED, s_otp) | RBIND(MBIND)
     :: !s_dead && res != 0 -> plan = P_DECIDE  /* re-apply the same outcome */
     :: !s_dead && res == 0 ->
        plan = P_CHECK;  /* continuation: the check */
        ly = l_pin       /* of the attempt the lease keeps (charged_attempt) */
     fi
  :: cls == C_CLONE ->
     if
     :: s_dead -> plan = P_SEND; rep = REPLY(MRID, R_DESTROYED, s_otp) | RBIND(MBIND)
     :: else -> plan = P_CLONE
     fi
  :: cls == C_FRESH ->
     if
     :: MKIND == K_FETCH && s_dead -> plan = P_ROTATE; rep = REPLY(MRID, R_DESTROYED, 0)
     :: MKIND == K_FETCH && !s_dead -> plan = P_ROTATE; rep = REPLY(MRID, R_DONE, 0)
     :: MKIND == K_SIGN && s_dead -> plan = P_ROTATE; rep = REPLY(MRID, R_DESTROYED, 0)
     :: MKIND == K_SIGN && !s_dead && s_lock != 0 -> plan = P_ROTATE; rep = REPLY(MRID, R_LOCKED, 0)
     :: MKIND == K_SIGN && !s_dead && s_lock == 0 && s_sess[MSID] ->
        plan = P_ROTATE; rep = REPLY(MRID, R_ERR, 0)   /* session already complete */
     :: MKIND == K_SIGN && !s_dead && s_lock == 0 && !s_sess[MSID] ->
#if defined(MUTANT_UNCOUNTED) || defined(MUTANT_CHARGE_AFTER)
        plan = P_CHECK   /* M1 M2: the check first */
#else
        plan = P_CHARGE  /* phase A */
#endif
     fi
  :: cls == C_RESEND -> plan = P_SEND; rep = REPLY(MRID, s_rep, s_otp) | RBIND(s_rbind)
  :: cls == C_CHAL -> plan = P_SEND; rep = REPLY(MRID, R_CHALLENGE, 0) | RBIND(MBIND)
  :: cls == C_REPLAY -> plan = P_SEND; rep = REPLY(MRID, R_PLAIN, 0) | RBIND(MBIND)
  fi;
  if
  :: plan != P_DECIDE -> res = 0   /* a check made is not used */
  :: else -> skip
  fi;
  printf("W%d: ", w);
  if
  :: cls == C_FRESH -> printf("fresh")
  :: cls == C_CONT -> printf("continuation of the charged check")
  :: cls == C_RESEND -> printf("the newest request again: resend the stored reply")
  :: cls == C_CHAL -> printf("an older request / unknown OTP, no challenge")
  :: cls == C_CLONE -> printf("CLONE rule")
  :: cls == C_REPLAY -> printf("counter not above the last one: replay")
  :: else -> skip
  fi;
  printf(" (read v%d)\n", ver);
  cls = 0;
  /* P3: once the record shows that the clone completed a request of its
   * own (or another request under the id it copied), a request of the
   * original gets a verdict, or (without a challenge) a CHALLENGE whose
   * answer gets one */
#ifndef P3_LIVENESS_ONLY
  assert(!(MSRC == SRC_DEV && g_clonerot) || plan == P_CLONE || ((plan == P_SEND || plan == P_ROTATE) && RST(rep) == R_DESTROYED) || (plan == P_SEND && RST(rep) == R_CHALLENGE && !MCHAL));  /* P3 verdict for the original */
#endif
  /* a request that carries a valid challenge never gets another one */
  assert(!(plan == P_SEND && RST(rep) == R_CHALLENGE && MCHAL));  /* P3 P4 no endless try-again */
}

/* part of every write that answers with a new OTP (sk_store_key_update of
 * the record built by sk_server_handle_device): retire the request's OTP,
 * push {otp, rid} to hist, hand over a new OTP, keep the reply */
inline rotate(st) {
  hj = 0;
  do
  :: hj < H - 1 -> h_otp[hj] = h_otp[hj + 1]; h_rid[hj] = h_rid[hj + 1]; hj++
  :: else -> break
  od;
  hj = 0;
  h_otp[H - 1] = MOTP;
  h_rid[H - 1] = MRID;
  s_otp = MOTP + 1;
  assert(s_otp < JUNK_OTP);  /* a bound of the model, not a property */
  s_rep = st;
  s_rbind = MBIND;       /* last_binding (finish, handle.c) */
  rep = REPLY(MRID, st, s_otp) | RBIND(MBIND);
  if
  :: MSRC == SRC_CLONE && MRID >= CRID0 -> g_clonerot = 1
  :: MSRC == SRC_FORGED -> g_clonerot = 1   /* another request under the copied id */
  :: else -> skip
  fi
}

/* sk_server_complete: the PIN check, outside any transaction, of the
 * attempt charged (op_sign / op_revoke: charged_attempt, as read with the
 * record) - not of the one the request carries */
inline pin_check() {
#if defined(MUTANT_LEASE_ANY_Y) || defined(MUTANT_UNCOUNTED) || defined(MUTANT_CHARGE_AFTER)
  res = MPIN + 1;    /* M9 (and M1 M2, no lease): this message's attempt */
#else
  res = ly + 1;      /* the attempt the lease keeps: 1 wrong, 2 right */
#endif
  ly = 0;
  printf("W%d: PIN check (sk_server_complete): ", w);
  if
  :: res == 2 -> printf("right\n")
  :: else -> printf("wrong\n")
  fi;
  /* P1: counted before it runs (the charge) - or, in M1 and M2, to be
   * counted with or after its outcome (unc) */
  unc = (g_chg[MRID] != MOTP + 1);
#if !defined(MUTANT_UNCOUNTED) && !defined(MUTANT_CHARGE_AFTER)
  assert(!unc);  /* P1 a check runs only under a committed charge */
  /* every check under a charge checks the attempt the charge was made for:
   * all checks under one charge check one attempt */
  assert(res == ((g_chy >> MRID) & 1) + 1);  /* P1 one charge, one PIN attempt */
#endif
#ifdef FINDING_LIVE_CHARGE
  assert(l_rid == MRID && l_otp == MOTP && !s_dead);  /* FINDING_LIVE_CHARGE P1 check under an undecided charge */
#endif
  plan = P_DECIDE
}

/* phase C (device_optimistic / sk_store_key_update): the outcome */
inline apply_outcome() {
#if !defined(MUTANT_UNCOUNTED)
  assert(l_rid == MRID && l_otp == MOTP);  /* P1 decided under its own charge */
  assert(s_fail == g_wrong + 1);           /* P1 exactly one undecided charge: this one */
#endif
  assert(!s_dead);                         /* P2 no outcome on a destroyed key */
  l_rid = 0; l_otp = 0; l_bind = 0; l_pin = 0;   /* lease_end */
#ifdef MUTANT_UNCOUNTED
  s_fail++;    /* M1: the count, in the write of the outcome */
  unc = 0;
#endif
  if
  :: res == 2 ->
     s_fail = 0; s_lock = 0; g_wrong = 0;
     s_sess[MSID] = 1;
     rotate(R_OK);
     if
     :: MSRC == SRC_DEV -> g_ok = g_ok | (1 << MRID)
     :: else -> skip
     fi
  :: res == 1 ->
     g_wrong++;
     assert(s_fail == g_wrong);   /* P1 every wrong PIN counted once */
     assert(g_wrong <= 9);        /* P2 at most 9 wrong PINs */
     if
     :: s_fail >= 9 -> s_dead = D_LOCKOUT; rotate(R_DESTROYED)
     :: s_fail == 6 -> s_lock = 2; rotate(R_WRONG)
     :: s_fail == 3 -> s_lock = 1; rotate(R_WRONG)
     :: else -> rotate(R_WRONG)
     fi;
     assert((s_fail != 3 && s_fail != 6) || s_lock != 0);  /* P2 lock at 3 and 6 */
     assert(s_fail < 9 || s_dead == D_LOCKOUT)             /* P2 destroyed at 9 */
  fi
}

/* device_optimistic / sk_store_key_update: the CAS write of the plan (the
 * version read is still the stored one) */
inline commit() {
  if
  :: plan == P_ROTATE -> rotate(RST(rep)); plan = P_SEND
  :: plan == P_CHARGE ->
     /* phase A (charge, handle.c): the charge and the lease, which keeps
      * the request's binding and the attempt y it carries; no reply */
     s_fail++;
     l_rid = MRID; l_otp = MOTP; l_bind = MBIND; l_pin = MPIN;
     g_chg[MRID] = MOTP + 1;
     g_chy = (g_chy & ~(1 << MRID)) | (MPIN << MRID);
     ly = MPIN;
     plan = P_CHECK   /* the same worker goes on with the check */
  :: plan == P_DECIDE ->
#ifdef MUTANT_CHARGE_AFTER
     /* M2: the outcome is written and answered; the count comes after, in
      * a write of its own (unc stays set until then) */
     assert(!s_dead);
     if
     :: res == 2 ->
        s_fail = 0; s_lock = 0; g_wrong = 0; s_sess[MSID] = 1; unc = 0; rotate(R_OK);
        if
        :: MSRC == SRC_DEV -> g_ok = g_ok | (1 << MRID)
        :: else -> skip
        fi;
        plan = P_SEND
     :: res == 1 -> g_wrong++; rotate(R_WRONG); plan = P_SEND
     fi
#else
     apply_outcome();
     plan = P_SEND
#endif
#ifdef MUTANT_CHARGE_AFTER
  :: plan == P_COUNT -> s_fail++; unc = 0; rep = 0; plan = P_SEND   /* M2: the count */
#endif
  :: plan == P_CLONE ->
     assert(HAVE_CLONE);  /* P4 no clone verdict without a clone */
     s_dead = D_CLONE;
     l_rid = 0; l_otp = 0; l_bind = 0; l_pin = 0;   /* destroy_key ends the lease */
     if
     :: MOTP == s_otp -> rotate(R_CLONE)
     :: else -> rep = REPLY(MRID, R_CLONE, s_otp) | RBIND(MBIND)  /* a stale OTP: nothing retired */
     fi;
     plan = P_SEND
  fi;
  s_ver++;
  ver = s_ver;
  printf("W%d: CAS write v%d ok\n", w, s_ver);
  say_rec()
}

proctype Worker(byte w) {
  short m;     /* the request */
  byte ver;    /* version of the record the plan was decided on */
  byte plan;
  byte res;    /* PIN check result: 0 none, 1 wrong, 2 right */
  short rep;   /* the reply */
  bit unc;     /* P1: a check made and not counted yet (M1, M2 only) */
  bit ly;      /* the attempt the lease keeps, as read (for the check) */
  byte k;
#ifdef MUTANT_SEND_FIRST
  bit sent;
#endif

end_idle:
  /* the network delivers one request, any one of the bag */
  atomic {
    rq[0] != 0;
    bag_pick(rq, k);
    m = rq[k];
    bag_del(rq, k);
    k = 0;
    printf("W%d: takes ", w); say_req(m); printf("\n");
    decide()                 /* sk_server_handle_device */
  };
  do
  :: atomic { plan == P_CHECK ->
       pin_check()           /* sk_server_complete */
     }
#ifdef MUTANT_SEND_FIRST
  :: atomic { plan == P_DECIDE && !sent && ROOM(rp) ->
       /* M7: the reply of phase C goes out before the record is stored */
       sent = 1;
       rep = REPLY(MRID, (res == 2 -> R_OK : R_WRONG), MOTP + 1) | RCONN(MCONN) | RBIND(MBIND);
       printf("W%d: M7 sends the reply before storing: ", w); say_st(RST(rep)); printf("\n");
       bag_put(rp, rep)
     }
  :: atomic { plan >= P_ROTATE && s_ver == ver && (plan != P_DECIDE || sent) ->
       commit()              /* device_optimistic: the CAS succeeds */
     }
#else
  :: atomic { plan >= P_ROTATE && s_ver == ver ->
       commit()              /* device_optimistic: the CAS succeeds */
     }
#endif
  :: atomic { plan >= P_ROTATE && s_ver != ver ->
       /* device_optimistic: the CAS fails, another write came first */
       printf("W%d: CAS conflict (read v%d, now v%d)\n", w, ver, s_ver);
#ifdef MUTANT_SEND_FIRST
       sent = 0;
#endif
       if
       :: plan == P_COUNT -> plan = P_SEND; rep = 0; res = 0  /* M2: the count is lost */
       :: else -> decide()                           /* read again, decide again */
       fi;
       assert(!unc || res != 0)  /* P1 a check is never thrown away uncounted */
     }
#ifdef MUTANT_SEND_FIRST
  :: atomic { plan == P_SEND && (sent || ROOM(rp)) ->
       if
       :: !sent -> rep = rep | RCONN(MCONN); bag_put(rp, rep)
       :: else -> skip
       fi;
       sent = 0;
#else
  :: atomic { plan == P_SEND && ROOM(rp) ->
       if
       :: rep != 0 ->
          rep = rep | RCONN(MCONN);
          bag_put(rp, rep)   /* the reply, after the commit */
       :: else -> skip       /* M2: nothing more to send */
       fi;
#endif
       assert(!(rep != 0 && RST(rep) == R_WRONG && unc));  /* P1 a wrong PIN is answered only once counted */
       /* P5: a retry of a request answered OK gets that OK again */
       assert(!(MSRC == SRC_DEV && ((g_ok >> MRID) & 1) && RST(rep) != R_OK && RST(rep) != R_CHALLENGE && s_dead != D_CLONE));  /* P5 same OK for a retry */
       if
       :: rep != 0 ->
          printf("W%d: replies rid %d: ", w, RRID(rep)); say_st(RST(rep));
          printf(" otp %d\n", ROTP(rep))
       :: else -> skip
       fi;
#ifdef MUTANT_CHARGE_AFTER
       if
       :: unc && rep != 0 ->
          /* M2: the count, in a separate write on a fresh read */
          plan = P_COUNT; ver = s_ver; rep = 0;
          printf("W%d: now counts the wrong PIN (read v%d)\n", w, ver)
       :: else ->
#endif
          m = 0; ver = 0; plan = 0; res = 0; rep = 0; unc = 0;
          goto end_idle
#ifdef MUTANT_CHARGE_AFTER
       fi
#endif
     }
  :: atomic { wcrash > 0 ->
       /* a crash: the worker's uncommitted work is lost */
       wcrash--;
       printf("W%d: crashes\n", w);
       assert(!unc);  /* P1 a check is never thrown away uncounted */
       m = 0; ver = 0; plan = 0; res = 0; rep = 0; unc = 0; ly = 0;
#ifdef MUTANT_SEND_FIRST
       sent = 0;
#endif
       goto end_idle
     }
  od
}

/* ---------------------------------------------------------------- the device */

#ifdef MUTANT_NOLOCK
#define LOCK_FREE (1)
#define LOCK_TAKE(me) skip
#define LOCK_DROP skip
#else
#define LOCK_FREE (d_lock == 0)
#define LOCK_TAKE(me) d_lock = me
#define LOCK_DROP d_lock = 0
#endif
#ifdef MUTANT_NOVERCHECK
#define VER_OK (1)
#else
#define VER_OK (d_ver == ver)
#endif

/* the reply answers this process's pending request (skd_open /
 * skd_open_reply, libsplitkey/src/protocol/device/state.c): it names the
 * request id and carries the pending request's binding */
#ifdef MUTANT_ANY_REPLY
#define MINE(r) (RST(r) != R_PLAIN)
#define FOR_ME(r) (RRID(r) == rid && RB(r) == BIND(kind, sid))
#elif defined(MUTANT_UNBOUND_BODY)
/* M10: the request id alone */
#define FOR_ME(r) (RRID(r) == rid)
#ifdef DEVICE_TYPE_CHECK
/* and, as the C device did, a typed reply (OK, DONE) of another request
 * type is refused; an error reply is taken whatever the request was */
#define MINE(r) (RRID(r) == rid && RST(r) != R_PLAIN && \
                 (RK(r) == kind || (RST(r) != R_OK && RST(r) != R_DONE)))
#else
#define MINE(r) (RRID(r) == rid && RST(r) != R_PLAIN)
#endif
#else
#define FOR_ME(r) (RRID(r) == rid && RB(r) == BIND(kind, sid))
#define MINE(r) (FOR_ME(r) && RST(r) != R_PLAIN)
#endif

/* a reply on this device process's connection (without a command running,
 * it is read and dropped, as by a closed connection) */
#define DEV_CAN(k) (rp[k] != 0 && RON(rp[k]) == me - 1)

/* the pending request sent (again); a PIN kind asks for the PIN again, so
 * the attempt may be right or wrong each time */
#define DEV_SEND \
  if \
  :: kind == K_SIGN -> r = REQ(rid, otp, kind, 0, chal, SRC_DEV, sid) | CONN(me - 1) \
  :: kind == K_SIGN -> r = REQ(rid, otp, kind, 1, chal, SRC_DEV, sid) | CONN(me - 1) \
  :: kind == K_FETCH -> r = REQ(rid, otp, kind, 0, chal, SRC_DEV, sid) | CONN(me - 1) \
  fi; \
  bag_put(rq, r); \
  printf("D%d: sends ", me); say_req(r); printf("\n"); \
  r = 0

proctype Device(byte me) {
  byte rid, otp, kind, ver;  /* in memory: the command and the sealed state read */
  bit sid;
  bit has;                   /* running a command (holding the lock) */
  bit chal, resend;          /* a challenge for rid, to send back */
  short r;
  byte k;

end_dev:
  do
  /* a command starts: take the lock, open the sealed state */
  :: atomic { !has && !d_gone && (d_rid != 0 || d_cmds < NCMD) && LOCK_FREE ->
       LOCK_TAKE(me);
       has = 1; ver = d_ver; rid = d_rid; otp = d_otp; kind = d_kind; sid = d_sid;
       if
       :: rid != 0 && ROOM(rq) ->
          /* sk_device_retry: the pending request again */
          printf("D%d: opens the state: request %d pending, sends it again\n", me, rid);
          DEV_SEND
       :: rid != 0 && !ROOM(rq) -> skip   /* the timeout retry sends it */
       :: rid == 0 && d_cmds >= NCMD -> has = 0; ver = 0; LOCK_DROP
       :: else -> skip
       fi
     }
  /* a new request: sk_device_fetch / sk_device_approve build it,
   * sk_device_key_seal persists it (pending set, version checked), then
   * it is sent; a crash between the two is a lost message */
  :: atomic { has && rid == 0 && ROOM(rq) ->
       if
       :: VER_OK && d_cmds < NCMD ->
          d_cmds++;
          rid = d_next; d_next++;
          if
          :: kind = K_FETCH; sid = 0
          :: kind = K_SIGN; sid = 0
#if HAVE_RP
          :: sess_made[1] -> kind = K_SIGN; sid = 1
#endif
          fi;
          d_rid = rid; d_kind = kind; d_sid = sid; d_ver++; ver = d_ver;
          chal = 0;
          printf("D%d: new request %d, sealed v%d with it pending\n", me, rid, d_ver);
          DEV_SEND
       :: else ->
          /* the sealed state changed since it was read: start again */
          printf("D%d: the sealed state changed (v%d, read v%d): drops the command\n", me, d_ver, ver);
          has = 0; rid = 0; otp = 0; kind = 0; sid = 0; ver = 0; LOCK_DROP
       fi
     }
  /* a reply: sk_device_read_reply / sk_device_read_signature (device/
   * session.c), which open it with skd_open (device/state.c: its request id
   * and binding, MINE and FOR_ME above) */
  :: atomic { (DEV_CAN(0) || DEV_CAN(1) || DEV_CAN(2)) ->
       if
       :: DEV_CAN(0) -> k = 0
       :: DEV_CAN(1) -> k = 1
       :: DEV_CAN(2) -> k = 2
       fi;
       r = rp[k];
       bag_del(rp, k);
       k = 0;
       printf("D%d: reads reply rid %d ", me, RRID(r)); say_st(RST(r)); printf(" otp %d: ", ROTP(r));
       if
       :: has && rid != 0 && FOR_ME(r) && RST(r) == R_CHALLENGE ->
          if
          :: !chal -> chal = 1; resend = 1; printf("will send it back\n")
          :: else -> printf("has one already\n")
          fi
       :: has && rid != 0 && MINE(r) && RST(r) != R_CHALLENGE ->
          /* P5: an acknowledged signature is stored for good */
          assert(RST(r) != R_OK || (s_sess[sid] && l_rid != rid));  /* P5 acknowledged means stored */
          if
          :: VER_OK ->
             /* takes the new OTP, clears pending: sk_device_key_seal */
             d_otp = ROTP(r); d_rid = 0; d_kind = 0; d_sid = 0; d_ver++;
             if
             :: RST(r) == R_CLONE || RST(r) == R_DESTROYED -> d_gone = 1
             :: else -> skip
             fi;
             printf("takes otp %d, sealed v%d\n", d_otp, d_ver)
          :: else -> printf("the sealed state moved on meanwhile\n")
          fi;
          has = 0; rid = 0; otp = 0; kind = 0; sid = 0; ver = 0; chal = 0; resend = 0;
          LOCK_DROP
       :: else -> printf("not for its pending request: ignored\n")
       fi;
       r = 0
     }
  /* the challenge back: sk_device_retry with it */
  :: atomic { has && resend && ROOM(rq) ->
       resend = 0;
       printf("D%d: sends request %d again with the challenge\n", me, rid);
       DEV_SEND
     }
  /* no reply yet: sk_device_retry, early (the first copy is only slow) ... */
  :: atomic { has && rid != 0 && d_early > 0 && ROOM(rq) ->
       d_early--;
       printf("D%d: retries request %d early\n", me, rid);
       DEV_SEND
     }
  /* ... or once nothing else can happen */
  :: atomic { has && rid != 0 && timeout ->
       /* every fault is bounded: a device still waiting when nothing else
        * can move and its retries are spent would wait for ever */
       printf("D%d: timeout, retries request %d (%d)\n", me, rid, d_to + 1);
       assert(d_to < TO_MAX || g_clonerot);  /* P4 the device completes its requests */
       assert(d_to < TO_MAX);                /* P3 the original gets its verdict */
       d_to++;
       DEV_SEND
     }
  /* a crash: what is in memory is lost, the sealed state stays */
  :: atomic { d_crash > 0 && has ->
       d_crash--;
       printf("D%d: crashes\n", me);
       has = 0; rid = 0; otp = 0; kind = 0; sid = 0; ver = 0; chal = 0; resend = 0;
       LOCK_DROP
     }
  od
}

/* ----------------------------------------------------------------- the clone */
#if HAVE_CLONE
#define CL_CAN(k) (RRID(rp[k]) == rid && !(RST(rp[k]) == R_CHALLENGE && chal) && RST(rp[k]) != R_PLAIN)
#define CL_SPY(k) (rp[k] != 0 && RRID(rp[k]) != rid && RST(rp[k]) != R_CHALLENGE && RST(rp[k]) != R_PLAIN && ROTP(rp[k]) != otp)

/* A copy of the sealed device state, taken at any moment, used on its own:
 * it resends the request it copied (as it was, or another request under
 * the same id), makes requests of its own (its ids, its OTP or one made
 * up), reads copies of the replies to its requests. */
proctype Clone() {
  byte rid, otp, kind, nxt, sends;
  bit sid, chal;
  byte k;

  atomic {
    rid = d_rid; otp = d_otp; kind = d_kind; sid = d_sid; nxt = CRID0;
    printf("C: copies the sealed state: otp %d pending %d\n", otp, rid)
  };
end_clone:
  do
  :: atomic { sends < CL_SENDS && rid != 0 && rid < CRID0 && ROOM(rq) ->
       /* the copied request (again) */
       sends++;
       if
       :: bag_put(rq, REQ(rid, otp, kind, 0, chal, SRC_CLONE, sid))
       :: kind == K_SIGN -> bag_put(rq, REQ(rid, otp, kind, 1, chal, SRC_CLONE, sid))
       /* another request under the copied id and OTP (another binding) */
       :: kind == K_FETCH -> bag_put(rq, REQ(rid, otp, K_SIGN, 0, chal, SRC_FORGED, 0))
       :: kind == K_SIGN -> bag_put(rq, REQ(rid, otp, K_FETCH, 0, chal, SRC_FORGED, 0))
#if CLONE_OTHER_SESSION
       :: kind == K_SIGN -> bag_put(rq, REQ(rid, otp, K_SIGN, 0, chal, SRC_FORGED, 1 - sid))
#endif
       fi;
       printf("C: sends the copied request %d\n", rid)
     }
  :: atomic { sends < CL_SENDS && rid >= CRID0 && ROOM(rq) ->
       /* its own pending request again */
       sends++;
       bag_put(rq, REQ(rid, otp, kind, 0, chal, SRC_CLONE, 0));
       printf("C: sends its request %d again\n", rid)
     }
  :: atomic { sends < CL_SENDS && nxt <= 7 && ROOM(rq) ->
       /* a request of its own */
       sends++;
       rid = nxt; nxt++; chal = 0;
#ifdef MUTANT_COUNTER
       if
       :: skip
       :: otp = otp + 2       /* M3: the copy jumps its counter ahead */
       fi;
#else
       if
       :: skip
       :: otp = JUNK_OTP      /* an OTP it made up */
       fi;
#endif
       if
       :: kind = K_FETCH
       :: kind = K_SIGN
       fi;
       bag_put(rq, REQ(rid, otp, kind, 0, 0, SRC_CLONE, 0));
       printf("C: sends a request of its own: rid %d otp %d kind %d\n", rid, otp, kind)
     }
  :: atomic { rid != 0 && (CL_CAN(0) || CL_CAN(1) || CL_CAN(2)) ->
       /* reads a copy of a reply to its request */
       if
       :: CL_CAN(0) -> k = 0
       :: CL_CAN(1) -> k = 1
       :: CL_CAN(2) -> k = 2
       fi;
       if
       :: RST(rp[k]) == R_CHALLENGE -> chal = 1
       :: else -> otp = ROTP(rp[k]); rid = 0; chal = 0
       fi;
       printf("C: reads the reply to its request: "); say_st(RST(rp[k])); printf("\n");
       k = 0
     }
#if CLONE_EAVESDROP
  :: atomic { (CL_SPY(0) || CL_SPY(1) || CL_SPY(2)) ->
       /* with the copied keys it opens a reply to another request it sees
        * on the network, and takes the OTP it hands over */
       if
       :: CL_SPY(0) -> k = 0
       :: CL_SPY(1) -> k = 1
       :: CL_SPY(2) -> k = 2
       fi;
       otp = ROTP(rp[k]);
       printf("C: reads a reply to request %d on the network, takes otp %d\n", RRID(rp[k]), otp);
       k = 0
     }
#endif
  :: break
  od
}
#endif

/* --------------------------------------------------------------- the network */
/* Delay and reordering are the bag itself (any message may be delivered
 * next, or much later); here: losses, copies (duplicates, replays later)
 * and unauthenticated frames. */
proctype Network() {
  byte k;
  short v;
end_net:
  do
  :: atomic { drops > 0 && rq[0] != 0 ->
       drops--; bag_pick(rq, k);
       printf("N: loses request "); say_req(rq[k]); printf("\n");
       bag_del(rq, k); k = 0 }
  :: atomic { drops > 0 && rp[0] != 0 ->
       drops--; bag_pick(rp, k);
       printf("N: loses reply rid %d ", RRID(rp[k])); say_st(RST(rp[k])); printf("\n");
       bag_del(rp, k); k = 0 }
  :: atomic { dups > 0 && rq[0] != 0 && ROOM(rq) ->
       dups--; bag_pick(rq, k); v = rq[k];
       printf("N: copies request "); say_req(v); printf("\n");
       bag_put(rq, v); k = 0; v = 0 }
  :: atomic { dups > 0 && rp[0] != 0 && ROOM(rp) ->
       dups--; bag_pick(rp, k); v = rp[k];
       printf("N: copies reply rid %d ", RRID(v)); say_st(RST(v)); printf("\n");
       bag_put(rp, v); k = 0; v = 0 }
  :: atomic { plains > 0 && ROOM(rp) ->
       plains--; v = REPLY(d_next - 1, R_PLAIN, 0); bag_put(rp, v); v = 0;
       printf("N: injects a plain error frame\n") }
  od
}

/* the clock: a lock ends once its time has passed (no write: the record
 * keeps locked_until, time moves on) */
proctype Clock() {
end_clock:
  do
  :: atomic { s_lock != 0 -> s_lock = 0; printf("clock: the lock ends\n") }
  od
}

/* ------------------------------------------------------------ relying parties */
#if HAVE_RP
#ifdef MUTANT_RP_ANY
#define RP_MAY(s, p) (sess_made[s])
#else
#define RP_MAY(s, p) (sess_made[s] && sess_rp[s] == (p))
#endif
/* Two relying parties, 1 and 2.  Party 1 created session 0 before the
 * start; party 2 creates session 1 (RpRequest.create) at any moment; either
 * polls any session id it likes (sk_server_handle_rp), which answers only
 * the session's creator (SESSION_UNKNOWN otherwise). */
proctype RelyingParties() {
  byte mine1 = 1, mine2;   /* the sessions each party created (bit per session) */
  byte polls;
end_rp:
  do
  :: atomic { !sess_made[1] ->
       sess_made[1] = 1; sess_rp[1] = 2; mine2 = mine2 | 2;
       printf("RP2: creates session 1\n") }
  :: atomic { polls < 2 ->
       polls++;
       if
       :: RP_MAY(0, 1) -> printf("RP1: polls session 0: %d\n", s_sess[0]); assert(!s_sess[0] || (mine1 & 1))  /* P6 party 1 polls session 0 */
       :: RP_MAY(1, 1) -> printf("RP1: polls session 1: %d\n", s_sess[1]); assert(!s_sess[1] || (mine1 & 2))  /* P6 party 1 polls session 1 */
       :: RP_MAY(0, 2) -> printf("RP2: polls session 0: %d\n", s_sess[0]); assert(!s_sess[0] || (mine2 & 1))  /* P6 party 2 polls session 0 */
       :: RP_MAY(1, 2) -> printf("RP2: polls session 1: %d\n", s_sess[1]); assert(!s_sess[1] || (mine2 & 2))  /* P6 party 2 polls session 1 */
       :: else -> printf("RP: a poll answered SESSION_UNKNOWN\n")
       fi }
  od
}
#endif

/* -------------------------------------------------------------------- start */
init {
  atomic {
#if FAIL0_ANY
    /* the failure count earlier wrong PINs left (their locks have ended) */
    if
    :: s_fail = 0
    :: s_fail = 2
    :: s_fail = 5
    :: s_fail = 8
    fi;
#endif
    g_wrong = s_fail;
    s_ver = 1;
#if HAVE_RP
    sess_made[0] = 1; sess_rp[0] = 1;   /* party 1's session */
#endif
    run Network();
    run Clock();
    run Worker(1);
#if NWORK > 1
    run Worker(2);
#endif
    run Device(1);
#if TWODEV
    run Device(2);
#endif
#if HAVE_CLONE
    run Clone();
#endif
#if HAVE_RP
    run RelyingParties();
#endif
  }
}
