/* SPDX-License-Identifier: MIT */
/*
 * dispatch.c - what a connection may ask (STYLE.md #4): a table maps each
 * request kind to its handler; a kind not in the table is refused and the
 * connection closed.  The whole front holds no capability: a socket comes
 * from the maker's pool and is finished by rawsock.c; the two IPv6 options
 * that need CAP_NET_RAW are set by the maker, on a worker thread there,
 * and answered later (handle_descriptor, dispatch_option_done).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"
#include "frame.h"
#include "uidlimits.h"
#include "rawsock.h"
#include "rxfilter.h"
#include "maker/maker.h"
#include "maker_link.h"
#include "stats.h"

static void reply_set(struct reply *rep, Rawbroker__Status st, int error,
		      const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void reply_set(struct reply *rep, Rawbroker__Status st, int error,
		      const char *rule, const char *fmt, ...)
{
	va_list ap;

	rep->status = st;
	rep->error = error;
	rep->rule = rule;
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
	va_end(ap);
}

static const char *name_or_num(const char *name, int v, char *buf, size_t n)
{
	if (name)
		return name;
	snprintf(buf, n, "%d", v);
	return buf;
}

/* What the deciding rule prepared on the socket (or tried to, when the
 * request failed), as logfmt pairs with "-" for what it left alone:
 * source_from=client|rule device= mark= filter=icmp:0,3 rcvbuf= sndbuf=. */
static void audit_prepare(const struct rawsock_spec *spec, char *buf, size_t size)
{
	const struct rb_prepare *p = spec ? spec->prep : NULL;
	char dev[LOG_Q_MAX], mark[16] = "-", types[600] = "-", rcv[16] = "-", snd[16] = "-";
	const char *from = "-";

	if (spec && spec->has_source)
		from = "client";
	else if (p && p->has_default_source)
		from = "rule";
	if (p && p->has_mark)
		snprintf(mark, sizeof(mark), "%#x", (unsigned)p->mark);
	if (p && p->has_receive) {
		int o = snprintf(types, sizeof(types), "%s:",
				 spec->family == AF_INET ? "icmp" : "icmpv6");

		rxfilter_describe(&p->receive, types + o, sizeof(types) - (size_t)o);
	}
	if (p && p->rcvbuf)
		snprintf(rcv, sizeof(rcv), "%u", (unsigned)p->rcvbuf);
	if (p && p->sndbuf)
		snprintf(snd, sizeof(snd), "%u", (unsigned)p->sndbuf);
	snprintf(buf, size, "source_from=%s device=%s mark=%s filter=%s rcvbuf=%s sndbuf=%s",
		 from, log_q(dev, p && p->device[0] ? p->device : "-"), mark, types, rcv, snd);
}

/* One audit line per grant and per refusal; refusals say why.  Grants and
 * failures say how the rule prepares the socket.  Formatted only when the
 * log takes it: past the per-second cap (most grants under load) a line
 * costs nothing but its count. */
static void audit(const struct grant_peer *gp, const Rawbroker__SocketRequest *sr,
		  const struct rawsock_spec *spec, const char *decision,
		  const struct reply *rep)
{
	bool granted = rep->status == RAWBROKER__STATUS__STATUS_OK;
	enum log_level lvl = granted ? LOG_LVL_INFO : LOG_LVL_WARN;
	char fam[16], proto[16], type[16], src[INET6_ADDRSTRLEN] = "-";
	char qrule[LOG_Q_MAX], qreason[LOG_Q_MAX], qorigin[LOG_Q_MAX], prep[1024];
	const void *bound;

	if (!log_admit(lvl))
		return;
	bound = spec ? rawsock_bind_source(spec) : NULL;
	if (bound)
		inet_ntop(spec->family, bound, src, sizeof(src));
	audit_prepare(spec, prep, sizeof(prep));
	log_admitted(lvl, granted ? "grant" : "refuse",
		  "decision=%s uid=%u gid=%u pid=%d family=%s protocol=%s type=%s "
		  "source=%s nonblock=%d %s rule=%s%s%s via=%s%s%s",
		  decision, (unsigned)gp->peer.uid, (unsigned)gp->peer.gid, (int)gp->peer.pid,
		  name_or_num(rb_family_name(sr->family), sr->family, fam, sizeof(fam)),
		  name_or_num(rb_protocol_name(sr->protocol), sr->protocol, proto,
			      sizeof(proto)),
		  name_or_num(rb_type_name(sr->type), sr->type, type, sizeof(type)), src,
		  sr->nonblock ? 1 : 0, prep, log_q(qrule, rep->rule ? rep->rule : "-"),
		  granted ? "" : " reason=", granted ? "" : log_q(qreason, rep->reason),
		  gp->via, gp->origin ? " origin=" : "",
		  gp->origin ? log_q(qorigin, gp->origin) : "");
}

/*
 * socket: a hostile client chooses family, type, protocol, flags and source
 * freely.  Safe because: the tuple must be one rawsock.c serves (checked
 * before the policy and again in rawsock_open), the source length must fit
 * the family (the codec already bounded it to 0/4/16 bytes), the policy
 * decides with the kernel's identity only (SO_PEERCRED for a connection;
 * for a seccomp notification, /proc/PID/status of the notifying task,
 * validated with SECCOMP_IOCTL_NOTIF_ID_VALID: usernotif.c), and bind() refuses
 * non-local addresses.  How the socket is prepared (device, mark, receive
 * filter, buffers, default source) is the deciding rule's alone: the
 * request has no field for it.  Nothing the client sends reaches a format
 * string or an allocation size.
 */
void dispatch_socket(struct broker *b, const struct grant_peer *gp,
		     const Rawbroker__SocketRequest *sr, struct reply *rep)
{
	struct rawsock_spec spec = {
		.family = sr->family,
		.type = sr->type,
		.protocol = sr->protocol,
		.nonblock = sr->nonblock,
	};
	struct rb_query q = { .family = sr->family, .type = sr->type, .protocol = sr->protocol };
	struct rb_decision dec;
	char rule[RB_RULE_NAME_MAX]; /* DEC's rule name across a delivery */
	const char *no;
	int fd;

	rep->fd = -1;
	no = rawsock_unservable(sr->family, sr->type, sr->protocol);
	if (no) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_INVALID, EINVAL, NULL, "%s", no);
		audit(gp, sr, NULL, "invalid", rep);
		return;
	}
	if (sr->source.len) {
		size_t want = sr->family == AF_INET ? sizeof(spec.source.v4)
						    : sizeof(spec.source.v6);

		if (sr->source.len != want) {
			reply_set(rep, RAWBROKER__STATUS__STATUS_INVALID, EINVAL, NULL,
				  "source address length %zu does not fit family %s",
				  sr->source.len, rb_family_name(sr->family));
			audit(gp, sr, NULL, "invalid", rep);
			return;
		}
		spec.has_source = true;
		memcpy(&spec.source, sr->source.data, want);
		q.has_source = true;
		memcpy(&q.source, sr->source.data, want);
	}

	rb_policy_decide(b->policy, &gp->peer, &q, &dec);
	if (dec.verdict != RB_ALLOW) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_DENIED, EACCES, dec.rule, "%s",
			  dec.reason);
		audit(gp, sr, &spec, "deny", rep);
		stats_request(dec.rule, sr->family, STATS_DENIED);
		return;
	}
	/* Grants per uid, across its connections: a token bucket with the
	 * deciding rule's rate and burst (uidlimits.c). */
	if (!limits_take_grant(gp->uid_slot, &dec.limits)) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_RATE_LIMITED, EAGAIN, dec.rule,
			  "uid %u is over its grant rate (%u/s, burst %u); try again later",
			  (unsigned)gp->peer.uid, (unsigned)dec.limits.rate,
			  (unsigned)dec.limits.burst);
		audit(gp, sr, &spec, "rate-limited", rep);
		stats_request(dec.rule, sr->family, STATS_RATE_LIMITED);
		return;
	}

	spec.prep = &dec.prep; /* the rule's; dec lives until we return */
	fd = rawsock_open(&spec, rep->reason, sizeof(rep->reason));
	if (fd < 0) {
		rep->status = RAWBROKER__STATUS__STATUS_FAILED;
		rep->error = -fd;
		rep->rule = dec.rule;
		audit(gp, sr, &spec, "fail", rep);
		return;
	}
	if (gp->deliver) {
		/* DELIVER may let go of the front lock while it waits for the
		 * client (usernotif.c: a notify listener's thread in ADDFD),
		 * and a SIGHUP reload may free the policy meanwhile: from here
		 * on, the rule's name is our copy (the rest of DEC and the
		 * preparation are DEC's own bytes). */
		int r;

		if (dec.rule) {
			snprintf(rule, sizeof(rule), "%s", dec.rule);
			dec.rule = rule;
		}
		r = gp->deliver(gp, fd, rep->reason, sizeof(rep->reason));

		if (r < 0) {
			/* Ours: never a client's, so the close cannot block.
			 * No refund: the maker did the work (broker.h). */
			close(fd);
			rep->status = RAWBROKER__STATUS__STATUS_FAILED;
			rep->error = -r;
			rep->rule = dec.rule;
			audit(gp, sr, &spec, "fail", rep);
			rep->rule = NULL; /* our copy: not past this frame */
			return;
		}
	}
	reply_set(rep, RAWBROKER__STATUS__STATUS_OK, 0, dec.rule, "%s", dec.reason);
	rep->fd = fd;
	audit(gp, sr, &spec, "grant", rep);
	stats_request(dec.rule, sr->family, STATS_GRANTED);
	if (gp->deliver)
		rep->rule = NULL; /* our copy: not past this frame */
}

/* socket over the unix socket: the connection's SO_PEERCRED identity,
 * taken at accept (dispatch_socket says why a hostile request is safe). */
static bool handle_socket(struct broker *b, struct conn *c, const Rawbroker__Request *req,
			  int fd_in, struct reply *rep)
{
	struct grant_peer gp = {
		.peer = { .pid = c->cred.pid, .uid = c->cred.uid, .gid = c->cred.gid,
			  .groups = c->groups, .ngroups = c->ngroups },
		.uid_slot = c->uid_slot,
		.via = "unix",
	};

	(void)fd_in; /* always -1: dispatch checked */
	dispatch_socket(b, &gp, req->socket, rep);
	return true;
}

/* One audit line for a set_option, at the step that decided it; it ends
 * via=unix as a socket grant's does (the notify path's say via=notify). */
static void audit_option(const struct conn *c, const char *option, size_t len,
			 const char *decision, const struct reply *rep)
{
	bool granted = rep->status == RAWBROKER__STATUS__STATUS_OK;
	char qrule[LOG_Q_MAX], qreason[LOG_Q_MAX];

	log_event(granted ? LOG_LVL_INFO : LOG_LVL_WARN, granted ? "grant" : "refuse",
		  "decision=%s uid=%u gid=%u pid=%d option=%s len=%zu rule=%s%s%s via=unix", decision,
		  (unsigned)c->cred.uid, (unsigned)c->cred.gid, (int)c->cred.pid, option, len,
		  log_q(qrule, rep->rule ? rep->rule : "-"), granted ? "" : " reason=",
		  granted ? "" : log_q(qreason, rep->reason));
}

static unsigned option_bit(int level, int name)
{
	if (level != IPPROTO_IPV6)
		return 0;
	if (name == IPV6_HOPOPTS)
		return RB_OPT_IPV6_HOPOPTS;
	if (name == IPV6_DSTOPTS)
		return RB_OPT_IPV6_DSTOPTS;
	return 0;
}

/*
 * set_option, step 1: a hostile client chooses level, name and up to 2048
 * value bytes, as often as it likes.  Safe because: only
 * IPV6_HOPOPTS/IPV6_DSTOPTS are known, the policy must name the option for
 * this peer, the value must be a well-formed header of padding only
 * (checked here, and again by the maker, which sets it), each exchange
 * counts against the uid's grant rate, and the value is copied
 * into a fixed buffer the codec already bounded.  Only then does the kernel let
 * this one connection pass us a descriptor.
 */
static bool handle_set_option(struct broker *b, struct conn *c,
			      const Rawbroker__Request *req, int fd_in, struct reply *rep)
{
	const Rawbroker__SetOptionRequest *so = req->set_option;
	struct rb_peer peer = { .pid = c->cred.pid, .uid = c->cred.uid, .gid = c->cred.gid,
				.groups = c->groups, .ngroups = c->ngroups };
	unsigned opt = option_bit(so->level, so->name);
	const char *name = opt ? rb_option_name(opt) : "unknown";
	struct rb_decision dec;
	struct rb_limits lim;
	const char *bad;

	(void)fd_in;
	if (!opt) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_INVALID, EINVAL, NULL,
			  "only IPV6_HOPOPTS and IPV6_DSTOPTS are set for clients "
			  "(level %d, option %d)", so->level, so->name);
		audit_option(c, name, so->value.len, "invalid", rep);
		return true;
	}
	rb_policy_decide_option(b->policy, &peer, opt, &dec);
	if (dec.verdict != RB_ALLOW) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_DENIED, EACCES, dec.rule, "%s",
			  dec.reason);
		audit_option(c, name, so->value.len, "deny", rep);
		return true;
	}
	bad = mk_ext_header_invalid(so->value.data, so->value.len);
	if (bad) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_INVALID, EINVAL, dec.rule, "%s", bad);
		audit_option(c, name, so->value.len, "invalid", rep);
		return true;
	}
	/* An option set is a grant: it takes from the uid's token bucket, at
	 * the rate of the first rule that fits the uid (the bucket is per uid;
	 * 'options' lines carry no rate of their own).  Counted at step 1, so
	 * that a refused exchange never opens the door for a descriptor. */
	rb_policy_peer_limits(b->policy, &peer, &lim);
	if (!limits_take_grant(c->uid_slot, &lim)) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_RATE_LIMITED, EAGAIN, dec.rule,
			  "uid %u is over its grant rate (%u/s, burst %u); try again later",
			  (unsigned)c->cred.uid, (unsigned)lim.rate, (unsigned)lim.burst);
		audit_option(c, name, so->value.len, "rate-limited", rep);
		return true;
	}
	/* A client's descriptor may be a trap whose close blocks: it is
	 * taken only while there are closer workers left to absorb that. */
	if (!closer_has_capacity()) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_FAILED, EBUSY, dec.rule,
			  "the broker takes no descriptors now: its closer workers are stuck "
			  "on descriptors clients sent; try again later");
		audit_option(c, name, so->value.len, "busy", rep);
		return true;
	}
	c->pending = malloc(sizeof(*c->pending));
	if (!c->pending) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_FAILED, ENOMEM, dec.rule,
			  "out of memory");
		return true;
	}
	c->pending->level = so->level;
	c->pending->name = so->name;
	c->pending->opt = opt;
	c->pending->rule = dec.rule;
	c->pending->len = so->value.len;
	if (so->value.len)
		memcpy(c->pending->value, so->value.data, so->value.len);
	conn_accept_descriptor(c, true);
	reply_set(rep, RAWBROKER__STATUS__STATUS_OK, 0, dec.rule, "send the socket");
	rep->want_descriptor = true;
	return true;
}

/* The socket must be the kind these options are for: IPv6, raw or
 * datagram (RIPE Atlas sets them on UDP and raw probe sockets). */
static const char *option_socket_invalid(int fd)
{
	int v;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 || v != AF_INET6)
		return "the descriptor is not an IPv6 socket";
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 ||
	    (v != SOCK_RAW && v != SOCK_DGRAM))
		return "the descriptor is not a raw or datagram socket";
	return NULL;
}

/*
 * set_option, step 2: the client's socket.  Safe because: only expected
 * after step 1 (dispatch checks), the door for descriptors is closed again
 * at once, the descriptor must be an IPv6 raw or datagram socket (checked
 * with SO_DOMAIN/SO_TYPE, which take no socket lock; anything else goes to
 * the closer workers, since its close may block), and the option set is
 * the one step 1 validated.  The policy is asked again, in case a reload
 * came in between.  The setsockopt() itself takes the client's socket lock,
 * which the client can hold forever: it is the maker's (the option needs
 * CAP_NET_RAW), on a worker thread there, and the answer comes back later
 * (dispatch_option_done).  Our own copy is closed here: the copy in flight
 * to the maker holds a reference, so this close is never the last one and
 * releases nothing.
 */
static bool handle_descriptor(struct broker *b, struct conn *c,
			      const Rawbroker__Request *req, int fd_in, struct reply *rep)
{
	struct pending_option *po = c->pending;
	struct rb_peer peer = { .pid = c->cred.pid, .uid = c->cred.uid, .gid = c->cred.gid,
				.groups = c->groups, .ngroups = c->ngroups };
	const char *name = rb_option_name(po->opt), *bad;
	struct rb_decision dec;
	int r;

	c->pending = NULL;
	conn_accept_descriptor(c, false);
	rb_policy_decide_option(b->policy, &peer, po->opt, &dec);
	if (dec.verdict != RB_ALLOW) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_DENIED, EACCES, dec.rule, "%s",
			  dec.reason);
		audit_option(c, name, po->len, "deny", rep);
		closer_release(fd_in);
		free(po);
		return true;
	}
	bad = option_socket_invalid(fd_in);
	if (bad) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_INVALID, EINVAL, dec.rule, "%s", bad);
		audit_option(c, name, po->len, "invalid", rep);
		closer_release(fd_in);
		free(po);
		return true;
	}
	po->rule = dec.rule;
	r = maker_setopt(fd_in, po->level, po->name, po->value, po->len, server_option_done, c);
	close(fd_in);
	if (r < 0) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_FAILED, -r, dec.rule,
			  "setsockopt %s: the socket maker cannot take it now: %s", name,
			  strerror(-r));
		audit_option(c, name, po->len, "fail", rep);
		free(po);
		return true;
	}
	c->awaiting = po;
	c->awaiting_id = req->id;
	rep->deferred = true;
	return true;
}

void dispatch_option_done(struct conn *c, int err, struct reply *rep)
{
	struct pending_option *po = c->awaiting;
	const char *name = rb_option_name(po->opt);

	c->awaiting = NULL;
	rep->fd = -1;
	if (err == 0) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_OK, 0, po->rule, "%s set", name);
		audit_option(c, name, po->len, "grant", rep);
	} else if (err == ETIMEDOUT || err == EBUSY) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_FAILED, err, po->rule,
			  "setsockopt %s: %s (the socket's lock is held: another thread of "
			  "the client is in a call on it)", name,
			  err == EBUSY ? "every option worker is stuck" : "timed out");
		audit_option(c, name, po->len, "fail", rep);
	} else {
		reply_set(rep, RAWBROKER__STATUS__STATUS_FAILED, err, po->rule,
			  "setsockopt %s: %s", name, strerror(err));
		audit_option(c, name, po->len, "fail", rep);
	}
	free(po);
}

static bool is_admin(const struct broker *b, const struct conn *c)
{
	if (c->cred.uid == 0)
		return true;
	if (!b->cfg->has_admin_gid)
		return false;
	if (c->cred.gid == b->cfg->admin_gid)
		return true;
	for (size_t i = 0; i < c->ngroups; i++)
		if (c->groups[i] == b->cfg->admin_gid)
			return true;
	return false;
}

/*
 * status: a hostile client sends an empty message.  Safe because: the
 * answer is counters and state (no secret: uids, rule names, the policy's
 * path), given only to uid 0 and the --admin-group by the kernel's
 * SO_PEERCRED/SO_PEERGROUPS identity; everyone else gets EACCES and a log
 * line.  Building it costs one pass over the connections (bounded by
 * --max-connections), and the reply is bounded to fit one record
 * (stats_status).
 */
static bool handle_status(struct broker *b, struct conn *c, const Rawbroker__Request *req,
			  int fd_in, struct reply *rep)
{
	(void)req;
	(void)fd_in;
	if (!is_admin(b, c)) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_DENIED, EACCES, NULL,
			  "status is for root%s only", b->cfg->has_admin_gid ?
			  " and the broker's admin group" : "");
		log_event(LOG_LVL_WARN, "refuse", "decision=deny request=status uid=%u gid=%u "
			  "pid=%d reason=\"not root%s\"", (unsigned)c->cred.uid,
			  (unsigned)c->cred.gid, (int)c->cred.pid,
			  b->cfg->has_admin_gid ? " nor in the admin group" : "");
		return true;
	}
	reply_set(rep, RAWBROKER__STATUS__STATUS_OK, 0, NULL, "status");
	rep->broker_status = stats_status(b);
	log_event(LOG_LVL_INFO, "status", "uid=%u gid=%u pid=%d", (unsigned)c->cred.uid,
		  (unsigned)c->cred.gid, (int)c->cred.pid);
	return true;
}

typedef bool (*handler_fn)(struct broker *, struct conn *, const Rawbroker__Request *,
			   int fd_in, struct reply *);

static const struct {
	Rawbroker__Request__KindCase kind;
	handler_fn fn;
	bool takes_fd;    /* the request carries exactly one descriptor */
	bool after_step1; /* only as the second step of a set_option */
} handlers[] = {
	{ RAWBROKER__REQUEST__KIND_SOCKET, handle_socket, false, false },
	{ RAWBROKER__REQUEST__KIND_SET_OPTION, handle_set_option, false, false },
	{ RAWBROKER__REQUEST__KIND_DESCRIPTOR, handle_descriptor, true, true },
	{ RAWBROKER__REQUEST__KIND_STATUS, handle_status, false, false },
};

bool dispatch_request(struct broker *b, struct conn *c, const Rawbroker__Request *req,
		      int fd_in, struct reply *rep)
{
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		if (handlers[i].kind != req->kind_case)
			continue;
		/* The sequence is part of the protocol: a descriptor only as
		 * step 2, step 2 only after step 1, nothing else in between. */
		if (handlers[i].takes_fd != (fd_in >= 0) ||
		    handlers[i].after_step1 != (c->pending != NULL)) {
			if (fd_in >= 0)
				closer_release(fd_in);
			free(c->pending);
			c->pending = NULL;
			conn_accept_descriptor(c, false);
			reply_set(rep, RAWBROKER__STATUS__STATUS_INVALID, EINVAL, NULL, "%s",
				  fd_in >= 0 ? "a descriptor where none was expected" :
				  handlers[i].takes_fd ? "a descriptor request without its descriptor or set_option" :
							 "a request while a set_option waits for its socket");
			return false;
		}
		return handlers[i].fn(b, c, req, fd_in, rep);
	}
	if (fd_in >= 0)
		closer_release(fd_in);
	reply_set(rep, RAWBROKER__STATUS__STATUS_INVALID, EINVAL, NULL,
		  "unknown request kind %d", (int)req->kind_case);
	return false;
}
