/* SPDX-License-Identifier: MIT */
/*
 * dispatch.c - what a connection may ask (STYLE.md #4): a table maps each
 * request kind to its handler; a kind not in the table is refused and the
 * connection closed.  Handlers run unprivileged logic only; the socket
 * itself is made by rawsock.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "log.h"
#include "rawsock.h"

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

/* One audit line per grant and per refusal; refusals say why. */
static void audit(const struct conn *c, const Rawbroker__SocketRequest *sr,
		  const struct rawsock_spec *spec, const char *decision,
		  const struct reply *rep)
{
	bool granted = rep->status == RAWBROKER__STATUS__STATUS_OK;
	char fam[16], proto[16], type[16], src[INET6_ADDRSTRLEN] = "-";
	char qrule[LOG_Q_MAX], qreason[LOG_Q_MAX];

	if (spec && spec->has_source)
		inet_ntop(spec->family, &spec->source, src, sizeof(src));
	log_event(granted ? LOG_LVL_INFO : LOG_LVL_WARN, granted ? "grant" : "refuse",
		  "decision=%s uid=%u gid=%u pid=%d family=%s protocol=%s type=%s "
		  "source=%s nonblock=%d rule=%s%s%s",
		  decision, (unsigned)c->cred.uid, (unsigned)c->cred.gid, (int)c->cred.pid,
		  name_or_num(rb_family_name(sr->family), sr->family, fam, sizeof(fam)),
		  name_or_num(rb_protocol_name(sr->protocol), sr->protocol, proto,
			      sizeof(proto)),
		  name_or_num(rb_type_name(sr->type), sr->type, type, sizeof(type)), src,
		  sr->nonblock ? 1 : 0, log_q(qrule, rep->rule ? rep->rule : "-"),
		  granted ? "" : " reason=", granted ? "" : log_q(qreason, rep->reason));
}

/*
 * socket: a hostile client chooses family, type, protocol, flags and source
 * freely.  Safe because: the tuple must be one rawsock.c serves (checked
 * before the policy and again in rawsock_open), the source length must fit
 * the family (the codec already bounded it to 0/4/16 bytes), the policy
 * decides with the kernel's SO_PEERCRED identity only, and bind() refuses
 * non-local addresses.  Nothing the client sends reaches a format string or
 * an allocation size.
 */
static bool handle_socket(struct broker *b, struct conn *c, const Rawbroker__Request *req,
			  struct reply *rep)
{
	const Rawbroker__SocketRequest *sr = req->socket;
	struct rawsock_spec spec = {
		.family = sr->family,
		.type = sr->type,
		.protocol = sr->protocol,
		.nonblock = sr->nonblock,
	};
	struct rb_peer peer = {
		.pid = c->cred.pid,
		.uid = c->cred.uid,
		.gid = c->cred.gid,
		.groups = c->groups,
		.ngroups = c->ngroups,
	};
	struct rb_query q = { .family = sr->family, .type = sr->type, .protocol = sr->protocol };
	struct rb_decision dec;
	const char *no;
	int fd;

	no = rawsock_unservable(sr->family, sr->type, sr->protocol);
	if (no) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_INVALID, EINVAL, NULL, "%s", no);
		audit(c, sr, NULL, "invalid", rep);
		return true;
	}
	if (sr->source.len) {
		size_t want = sr->family == AF_INET ? sizeof(spec.source.v4)
						    : sizeof(spec.source.v6);

		if (sr->source.len != want) {
			reply_set(rep, RAWBROKER__STATUS__STATUS_INVALID, EINVAL, NULL,
				  "source address length %zu does not fit family %s",
				  sr->source.len, rb_family_name(sr->family));
			audit(c, sr, NULL, "invalid", rep);
			return true;
		}
		spec.has_source = true;
		memcpy(&spec.source, sr->source.data, want);
		q.has_source = true;
		memcpy(&q.source, sr->source.data, want);
	}

	rb_policy_decide(b->policy, &peer, &q, &dec);
	if (dec.verdict != RB_ALLOW) {
		reply_set(rep, RAWBROKER__STATUS__STATUS_DENIED, EACCES, dec.rule, "%s",
			  dec.reason);
		audit(c, sr, &spec, "deny", rep);
		return true;
	}

	fd = rawsock_open(&spec, rep->reason, sizeof(rep->reason));
	if (fd < 0) {
		rep->status = RAWBROKER__STATUS__STATUS_FAILED;
		rep->error = -fd;
		rep->rule = dec.rule;
		audit(c, sr, &spec, "fail", rep);
		return true;
	}
	reply_set(rep, RAWBROKER__STATUS__STATUS_OK, 0, dec.rule, "%s", dec.reason);
	rep->fd = fd;
	audit(c, sr, &spec, "grant", rep);
	return true;
}

typedef bool (*handler_fn)(struct broker *, struct conn *, const Rawbroker__Request *,
			   struct reply *);

static const struct {
	Rawbroker__Request__KindCase kind;
	handler_fn fn;
} handlers[] = {
	{ RAWBROKER__REQUEST__KIND_SOCKET, handle_socket },
};

bool dispatch_request(struct broker *b, struct conn *c, const Rawbroker__Request *req,
		      struct reply *rep)
{
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].kind == req->kind_case)
			return handlers[i].fn(b, c, req, rep);
	reply_set(rep, RAWBROKER__STATUS__STATUS_INVALID, EINVAL, NULL,
		  "unknown request kind %d", (int)req->kind_case);
	return false;
}
