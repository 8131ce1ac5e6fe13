"""The training set: each exercise's codename, difficulty, the page the on-call engineer gets,
and the lab faults it is recorded from (runbook.training.record).

The codename and briefing are all a trainee sees before committing a diagnosis; the fault,
the cause and the teaching note are for the debrief and the trainer.
"""

from __future__ import annotations

from runbook.training.record import Exercise

DIFFICULTIES = ("easy", "medium", "hard")

_ALL: list[Exercise] = [
    Exercise(
        "amber-heron",
        "Amber Heron",
        "medium",
        "Users API: a customer reports 502s on /api/users since 01:40 UTC; dashboards show nothing unusual.",
        (("healthy", ()),),
        title="All quiet: nothing is wrong",
        teaching="A healthy system gets no invented cause: the 502s were not reproducible anywhere.",
    ),
    Exercise(
        "quiet-lantern",
        "Quiet Lantern",
        "hard",
        "Users API: synthetic check failed once at 03:12 UTC with a 502, then passed; two user tickets. "
        "Security hardened the backends' firewalls last week.",
        (("healthy-hardened", ()),),
        title="A one-off blip behind hardened firewalls: nothing is wrong now",
        teaching="The backends drop everything by default, but let the gateway in: a listed DROP policy is "
        "not a block. The counters show nothing dropped the gateway's calls, and a burst stays clean.",
    ),
    Exercise(
        "granite-owl",
        "Granite Owl",
        "easy",
        "Users API: elevated 502s since 02:10 UTC, about half of requests; no deploy announced.",
        (("backend-down", ("app2",)),),
        title="The app service stopped on a backend",
    ),
    Exercise(
        "copper-finch",
        "Copper Finch",
        "medium",
        "Users API: 502s since 04:55 UTC on roughly half of requests; error rate steady.",
        (("backend-crash", ("app2",)),),
        title="A backend drops requests mid-flight",
    ),
    Exercise(
        "slate-marten",
        "Slate Marten",
        "medium",
        "Users API: 504s and slow pages since 11:20 UTC, p99 latency above 3 s.",
        (("backend-slow", ("app2",)),),
        title="A backend answers too slowly for the gateway",
    ),
    Exercise(
        "cedar-wren",
        "Cedar Wren",
        "medium",
        "Users API: elevated 502s since 16:05 UTC, about half of requests; a release went out at 16:00.",
        (("gateway-misconfigured", ("app2",)),),
        title="502s right after a gateway deploy",
    ),
    Exercise(
        "indigo-lynx",
        "Indigo Lynx",
        "medium",
        "Users API: 502s since 22:30 UTC on about half of requests; infra changes were merged today.",
        (("dns-failure", ("app2",)),),
        title="An upstream name stopped resolving",
    ),
    Exercise(
        "saffron-ibis",
        "Saffron Ibis",
        "medium",
        "Users API: 502s since 09:15 UTC on about half of requests; backends report healthy.",
        (("malformed-response", ("app2",)),),
        title="A backend sends broken HTTP",
    ),
    Exercise(
        "birch-otter",
        "Birch Otter",
        "hard",
        "Users API: 504s since 13:45 UTC on about half of requests; a network change window ran 13:30-13:40.",
        (("firewall", ("app2",)),),
        title="502s after a network change (dropped packets)",
    ),
    Exercise(
        "onyx-plover",
        "Onyx Plover",
        "hard",
        "Users API: 502s since 06:00 UTC on about half of requests; a subnet migration finished last week.",
        (("dns-wrong-address", ("app2",)),),
        title="An upstream name resolves to a retired address",
    ),
    Exercise(
        "ivory-badger",
        "Ivory Badger",
        "hard",
        "Users API: 502s since 00:20 UTC on all requests after a few minutes of slowness.",
        (("dns-down", ()),),
        title="The DNS server stopped",
    ),
    Exercise(
        "russet-crane",
        "Russet Crane",
        "hard",
        "Users API: elevated 502s since 18:35 UTC, about half of requests; the app team says app1 is fine.",
        (("firewall-reject", ("app1",)),),
        title="A firewall rule resets the gateway's connections",
    ),
    Exercise(
        "teal-magpie",
        "Teal Magpie",
        "hard",
        "Users API: 502s since 07:50 UTC on about half of requests; a gateway release and a backend "
        "restart both happened this morning.",
        (("backend-down", ("app2",)), ("gateway-misconfigured", ("app2",))),
        title="Two faults: a stopped backend hides a gateway pointing at the old port",
        teaching="Starting app2 again will not end the 502s: the gateway also sends app2's traffic to port "
        "8081, where nothing listens. Re-check the gateway's upstreams after the fix.",
    ),
    Exercise(
        "olive-kestrel",
        "Olive Kestrel",
        "hard",
        "Users API: 504s since 20:10 UTC on about half of requests; load is normal.",
        (("firewall", ("app1",)), ("backend-slow", ("app1",))),
        title="Two faults: a firewall drop hides a slow backend",
        teaching="Removing the firewall rule on app1 will turn its 504s into slow answers: app1 itself "
        "answers after 8 s, longer than the gateway waits.",
    ),
]

_ALL += [
    Exercise(
        "pearl-wagtail",
        "Pearl Wagtail",
        "medium",
        "Users API: two users report a 502 around 15:10 UTC; the gateway moved to a keepalive upstream pool yesterday.",
        (("healthy", ()),),
        title="A new keepalive pool, and nothing wrong",
        teaching="The pool's names resolve where the inventory says, every backend answers, and a burst "
        "stays clean: the reports are not reproducible, and the change is not a cause.",
        site="pool-names",
    ),
    Exercise(
        "hazel-stork",
        "Hazel Stork",
        "hard",
        "Users API: every request 502s since 05:40 UTC; the backends were moved to new addresses at 05:30 "
        "and their DNS records updated.",
        (("stale-resolution", ()),),
        title="The gateway still connects to the backends' old addresses",
        teaching="nginx resolved the pool's names when it last loaded: a reload makes it resolve them again.",
    ),
    Exercise(
        "flint-vole",
        "Flint Vole",
        "medium",
        "Users API: 504s on about half of requests since 14:05 UTC; one backend stopped sending metrics.",
        (("dead-host", ("app2",)),),
        title="A backend host answers nothing",
    ),
    Exercise(
        "moss-tern",
        "Moss Tern",
        "medium",
        "Users API: 502s on about half of requests since 10:15 UTC, right after app2's config was templated.",
        (("loopback-bind", ("app2",)),),
        title="A backend listens on loopback only",
    ),
    Exercise(
        "rowan-shrike",
        "Rowan Shrike",
        "medium",
        "Users API: 502s on about half of requests since 08:45 UTC; the gateway's error log is quiet.",
        (("backend-own-502", ("app2",)),),
        title="A backend answers 502 itself",
    ),
    Exercise(
        "pewter-gull",
        "Pewter Gull",
        "hard",
        "Users API: 504s on about half of requests since 19:20 UTC; the gateway's hardening playbook ran at 19:15.",
        (("gateway-egress", ("app2",)),),
        title="The gateway's own firewall drops its traffic to one backend",
    ),
    Exercise(
        "ochre-lark",
        "Ochre Lark",
        "medium",
        "Users API (PHP): every request answers 502 since 09:05 UTC; the platform team rolled out a new "
        "php-fpm pool config at 09:00.",
        (("php-socket-permission", ()),),
        title="php-fpm's socket shuts nginx's workers out",
        teaching="php-fpm runs and listens, but its socket is root's with mode 0600: nginx's workers "
        "(www-data) are refused. The error log says permission denied, and the socket's owner and mode "
        "against nginx's `user` say why; the fix is listen.owner/listen.mode, not a restart.",
        site="php-socket",
    ),
    Exercise(
        "linen-swift",
        "Linen Swift",
        "medium",
        "Users API: one user saw a 502 at 13:40 UTC; the API moved to uwsgi behind the gateway last night "
        "and the old HTTP health check now fails on every backend.",
        (("uwsgi-healthy", ()),),
        title="uwsgi backends, and nothing wrong",
        teaching="A backend that speaks uwsgi drops an HTTP GET, so the old check fails everywhere; asked in "
        "uwsgi (the protocol the gateway's `uwsgi_pass` uses), every backend answers, and a burst stays clean.",
        site="uwsgi-tcp",
    ),
]

EXERCISES: dict[str, Exercise] = {e.name: e for e in _ALL}
