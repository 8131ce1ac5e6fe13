"""A reader of ssh_config that agrees with OpenSSH's own (readconf.c), for machines without an
`ssh` binary. Where `ssh` exists, `runbook.inventory.openssh` asks `ssh -G` instead, and this
reader only supplies the `file:line` each value came from.

OpenSSH's rules kept here: command-line values first, then the files; the first value of an
option wins (IdentityFile accumulates); arguments are split like `argv_split` (quotes,
backslashes, `#` ends the line); `Host` patterns are `*`/`?` globs where one negated match
disables the block; `Match` criteria split on whitespace or one `=`; `Include` globs, sorted,
relative to ~/.ssh (user files) or /etc/ssh (system files), parsed but never applied inside an
inactive block; `ProxyCommand` and `ProxyJump`: whichever comes first wins; a second pass when
the config asks for `Match final`/`canonical` or `CanonicalizeHostname`.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import pwd
import re
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from runbook.inventory.limits import MAX_INCLUDE_DEPTH

SYSTEM_CONFIG = "/etc/ssh/ssh_config"
DEFAULT_IDENTITIES = (
    "~/.ssh/id_rsa",
    "~/.ssh/id_ecdsa",
    "~/.ssh/id_ecdsa_sk",
    "~/.ssh/id_ed25519",
    "~/.ssh/id_ed25519_sk",
    "~/.ssh/id_xmss",
    "~/.ssh/id_dsa",
)
DEFAULT_USER_KNOWN_HOSTS = ("~/.ssh/known_hosts", "~/.ssh/known_hosts2")
DEFAULT_GLOBAL_KNOWN_HOSTS = ("/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")
MAX_IDENTITY_FILES = 100

# every keyword OpenSSH 9.x accepts (readconf.c); an unknown one is an error there too
KEYWORDS = frozenset(
    [
        "protocol",
        "cipher",
        "fallbacktorsh",
        "globalknownhostsfile2",
        "rhostsauthentication",
        "userknownhostsfile2",
        "useroaming",
        "usersh",
        "useprivilegedport",
        "afstokenpassing",
        "kerberosauthentication",
        "kerberostgtpassing",
        "rsaauthentication",
        "rhostsrsaauthentication",
        "compressionlevel",
        "gssapiauthentication",
        "gssapidelegatecredentials",
        "gssapikeyexchange",
        "gssapitrustdns",
        "gssapirenewalforcesrekey",
        "gssapikexalgorithms",
        "gssapiclientidentity",
        "gssapiserveridentity",
        "pkcs11provider",
        "smartcarddevice",
        "forwardagent",
        "forwardx11",
        "forwardx11trusted",
        "forwardx11timeout",
        "exitonforwardfailure",
        "xauthlocation",
        "gatewayports",
        "passwordauthentication",
        "kbdinteractiveauthentication",
        "kbdinteractivedevices",
        "challengeresponseauthentication",
        "skeyauthentication",
        "tisauthentication",
        "pubkeyauthentication",
        "dsaauthentication",
        "hostbasedauthentication",
        "identityfile",
        "identityfile2",
        "identitiesonly",
        "certificatefile",
        "addkeystoagent",
        "identityagent",
        "hostname",
        "hostkeyalias",
        "proxycommand",
        "port",
        "ciphers",
        "macs",
        "remoteforward",
        "localforward",
        "permitremoteopen",
        "user",
        "host",
        "match",
        "escapechar",
        "globalknownhostsfile",
        "userknownhostsfile",
        "connectionattempts",
        "batchmode",
        "checkhostip",
        "stricthostkeychecking",
        "compression",
        "tcpkeepalive",
        "keepalive",
        "numberofpasswordprompts",
        "syslogfacility",
        "loglevel",
        "logverbose",
        "dynamicforward",
        "preferredauthentications",
        "hostkeyalgorithms",
        "casignaturealgorithms",
        "bindaddress",
        "bindinterface",
        "clearallforwardings",
        "enablesshkeysign",
        "verifyhostkeydns",
        "nohostauthenticationforlocalhost",
        "rekeylimit",
        "connecttimeout",
        "addressfamily",
        "serveraliveinterval",
        "serveralivecountmax",
        "sendenv",
        "setenv",
        "controlpath",
        "controlmaster",
        "controlpersist",
        "hashknownhosts",
        "include",
        "tunnel",
        "tunneldevice",
        "localcommand",
        "permitlocalcommand",
        "remotecommand",
        "visualhostkey",
        "kexalgorithms",
        "ipqos",
        "requesttty",
        "sessiontype",
        "stdinnull",
        "forkafterauthentication",
        "proxyusefdpass",
        "canonicaldomains",
        "canonicalizefallbacklocal",
        "canonicalizehostname",
        "canonicalizemaxdots",
        "canonicalizepermittedcnames",
        "streamlocalbindmask",
        "streamlocalbindunlink",
        "revokedhostkeys",
        "fingerprinthash",
        "updatehostkeys",
        "hostbasedacceptedalgorithms",
        "hostbasedkeytypes",
        "pubkeyacceptedalgorithms",
        "pubkeyacceptedkeytypes",
        "ignoreunknown",
        "proxyjump",
        "securitykeyprovider",
        "knownhostscommand",
        "requiredrsasize",
        "enableescapecommandline",
    ]
)
_STRICT = {"yes": "true", "true": "true", "no": "false", "false": "false", "off": "false", "ask": "ask"}
_STRICT["accept-new"] = "accept-new"


class ConfigProblem(ValueError):
    """A line OpenSSH would refuse; `where` is file:line."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")
        self.where = where


def local_account() -> tuple[str, str, int]:
    pw = pwd.getpwuid(os.getuid())
    return pw.pw_name, pw.pw_dir, pw.pw_uid


def tilde(path: str) -> str:
    """`~/x` and `~user/x` as OpenSSH expands them: from the password database, not $HOME."""
    if not path.startswith("~"):
        return path
    head, sep, rest = path[1:].partition("/")
    try:
        home = pwd.getpwnam(head).pw_dir if head else local_account()[1]
    except KeyError:
        return path
    return home.rstrip("/") + "/" + rest if sep else home


def split_args(text: str) -> list[str]:
    """OpenSSH's argv_split: quotes, backslash escapes, a `#` starting a token ends the line."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t":
            i += 1
            continue
        if c == "#":
            break
        quote = ""
        arg: list[str] = []
        while i < n:
            c = text[i]
            if c == "\\" and i + 1 < n and (text[i + 1] in "'\"\\" or (not quote and text[i + 1] == " ")):
                i += 1
                arg.append(text[i])
            elif not quote and c in " \t":
                break
            elif not quote and c in "\"'":
                quote = c
            elif quote and c == quote:
                quote = ""
            else:
                arg.append(c)
            i += 1
        if quote:
            raise ValueError("invalid quotes")
        out.append("".join(arg))
    return out


def strdelim(s: str | None) -> tuple[str | None, str | None]:
    """One token of a line, split on whitespace or a single `=` (misc.c strdelim)."""
    if s is None:
        return None, None
    m = re.search(r'[ \t\r\n"=]', s)
    if m is None:
        return s, None
    i = m.start()
    if s[i] == '"':
        s2 = s[:i] + s[i + 1 :]
        j = s2.find('"', i)
        if j < 0:
            return None, None
        rest = s2[j + 1 :]
        return s2[:j], rest.lstrip(" \t\r\n")
    tok, rest = s[:i], s[i:]
    equals = rest[0] == "="
    rest = rest[1:].lstrip(" \t\r\n")
    if not equals and rest.startswith("="):
        rest = rest[1:].lstrip(" \t\r\n")
    return tok, rest


def match_pattern(s: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(s, pattern)


def match_pattern_list(s: str, patterns: str, lower: bool = False) -> bool:
    """Comma list, `!` negates: a negated hit is a definite no (match.c)."""
    if lower:
        s = s.lower()
    got = False
    for pat in patterns.split(","):
        neg = pat.startswith("!")
        if neg:
            pat = pat[1:]
        if match_pattern(s, pat.lower() if lower else pat):
            if neg:
                return False
            got = True
    return got


def a2port(value: str) -> int:
    if value.isdigit():
        port = int(value)
        return port if 0 < port <= 65535 else -1
    try:
        return socket.getservbyname(value, "tcp")
    except OSError:
        return -1


_JUMP = re.compile(r"^(?:(?P<user>[^@]*)@)?(?P<host>\[[^\]]*\]|[^:]*)(?::(?P<port>[^:]*))?$")


def parse_user_host_port(spec: str) -> tuple[str | None, str, int | None]:
    """`[user@]host[:port]` or `ssh://[user@]host[:port]` (OpenSSH's parse_jump pieces)."""
    if spec.startswith("ssh://"):
        spec = spec[6:].rstrip("/")
    m = _JUMP.match(spec)
    if not m or not m["host"] or "/" in spec:
        raise ValueError(f"invalid jump host {spec!r}")
    port = None
    if m["port"] is not None:
        port = a2port(m["port"])
        if port <= 0:
            raise ValueError(f"invalid port in jump host {spec!r}")
    user = m["user"] if m["user"] else None
    return user, m["host"].strip("[]"), port


def normalize_jump(spec: str) -> str:
    """A ProxyJump list as `ssh -G` prints it: earlier hops as given, the last one rebuilt."""
    extra, comma, last = spec.rpartition(",")
    user, host, port = parse_user_host_port(last)
    numeric = ":" in host or all(c in "0123456789." for c in host)
    text = (f"{user}@" if user else "") + (f"[{host}]" if numeric else host) + (f":{port}" if port else "")
    return f"{extra}{comma}{text}"


@dataclass
class Options:
    """What the parse settled; None = not set yet (so the first value wins)."""

    values: dict[str, object] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    identity_files: list[str] = field(default_factory=list)
    identity_sources: list[str] = field(default_factory=list)

    def set(self, key: str, value: object, where: str) -> None:
        if key not in self.values:
            self.values[key] = value
            self.sources[key] = where

    def get(self, key: str) -> object:
        return self.values.get(key)


@dataclass
class Resolved:
    """ssh_config applied to one host: what `ssh -G` would print for the fields runbook uses."""

    host: str  # as given (%n)
    hostname: str
    user: str
    port: int
    identity_files: list[str]  # as configured (tokens unexpanded), defaults when none
    identities_configured: bool
    proxy_jump: str | None
    proxy_command: str | None
    user_known_hosts: list[str]
    global_known_hosts: list[str]
    strict_host_key_checking: str
    host_key_alias: str | None = None
    identities_only: bool = False
    ciphers: str | None = None
    sources: dict[str, str] = field(default_factory=dict)
    identity_sources: list[str] = field(default_factory=list)


@dataclass
class CommandLine:
    """What runbook passes as `ssh` options (inventory values): they win over every file."""

    user: str | None = None
    port: int | None = None
    identity_files: tuple[str, ...] = ()
    jump: str | None = None  # a ProxyJump spec, or "none"
    proxy_command: str | None = None  # "none" turns off every proxy the files name
    user_known_hosts: str | None = None
    source: str = "command line"

    def argv(self) -> list[str]:
        args: list[str] = []
        if self.user:
            args += ["-l", self.user]
        if self.port:
            args += ["-p", str(self.port)]
        for ident in self.identity_files:
            args += ["-i", ident]
        if self.jump:
            args += ["-o", f"ProxyJump={self.jump}"]
        if self.proxy_command:
            args += ["-o", f"ProxyCommand={self.proxy_command}"]
        if self.user_known_hosts:
            args += ["-o", f"UserKnownHostsFile={self.user_known_hosts}"]
        return args


class _Reader:
    def __init__(self, host: str, original: str, opts: Options, final: bool):
        self.host = host
        self.original = original
        self.opts = opts
        self.final = final
        self.want_final = False
        self.local_user, self.home, self.uid = local_account()

    def read(
        self, path: str, *, user_conf: bool, never_match: bool = False, depth: int = 0, active: list[bool] | None = None
    ) -> bool:
        if depth > MAX_INCLUDE_DEPTH:
            raise ConfigProblem(f"{path}:1", "too many recursive configuration includes")
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as fh:
                lines = fh.read().splitlines()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise ConfigProblem(f"{path}:1", f"cannot read: {exc.strerror}") from exc
        active = active if active is not None else [True]  # an included file starts in its includer's state
        for number, line in enumerate(lines, 1):
            self.line(line, f"{path}:{number}", active, user_conf=user_conf, never_match=never_match, depth=depth)
        return True

    def line(self, raw: str, where: str, active: list[bool], *, user_conf: bool, never_match: bool, depth: int) -> None:
        line = raw.rstrip(" \t\r\n\f")
        keyword, rest = strdelim(line)
        if keyword == "":
            keyword, rest = strdelim(rest)
        if not keyword or keyword.startswith("#"):
            return
        keyword = keyword.lower()
        rest = (rest or "").lstrip(" \t\r\n")
        if not rest:
            raise ConfigProblem(where, f'no argument after keyword "{keyword}"')
        if keyword not in KEYWORDS:
            raise ConfigProblem(where, f"Bad configuration option: {keyword}")
        try:
            args = split_args(rest)
        except ValueError as exc:
            raise ConfigProblem(where, str(exc)) from exc
        on = active[0]
        o = self.opts
        if keyword == "host":
            active[0] = False
            if never_match:
                return
            for pat in args:
                neg = pat.startswith("!")
                if match_pattern(self.host, pat[1:] if neg else pat):
                    if neg:
                        active[0] = False
                        return
                    active[0] = True
            return
        if keyword == "match":
            result = self.match(rest, where)
            active[0] = False if never_match else result
            return
        if keyword == "include":
            for arg in args:
                if arg.startswith("~") and not user_conf:
                    raise ConfigProblem(where, f"bad include path {arg}")
                if not arg.startswith(("/", "~")):
                    arg = ("~/.ssh/" if user_conf else "/etc/ssh/") + arg
                for path in sorted(glob.glob(tilde(arg))):
                    self.read(
                        path, user_conf=user_conf, never_match=never_match or not on, depth=depth + 1, active=active
                    )
                    active[0] = on  # an included Match does not change the including file's state
            return
        if keyword in ("proxycommand", "proxyjump"):
            value = rest.lstrip(" \t=")
            if keyword == "proxycommand":
                # a ProxyJump seen first wins; `ProxyJump none` does not stop a later ProxyCommand
                if on and o.get("proxyjump") in (None, "none"):
                    o.set("proxycommand", value, where)
                return
            spec = value.split("#", 1)[0].rstrip()
            specs = [] if spec.lower() == "none" else spec.split(",")
            for i, hop in enumerate(reversed(specs)):
                try:
                    parse_user_host_port(hop)
                except ValueError:
                    raise ConfigProblem(where, f'Invalid ProxyJump "{value}"') from None
                if i == 0 and not hop:
                    raise ConfigProblem(where, f'Invalid ProxyJump "{value}"')
            if on and o.get("proxycommand") is None and o.get("proxyjump") is None:
                o.set("proxyjump", "none" if not specs else normalize_jump(spec), where)
            return
        if keyword == "identityfile":
            if len(args) != 1:
                raise ConfigProblem(where, f"keyword {keyword} extra arguments at end of line")
            if on:
                if len(o.identity_files) >= MAX_IDENTITY_FILES:
                    raise ConfigProblem(where, "too many identity files")
                if args[0] not in o.identity_files:
                    o.identity_files.append(args[0])
                    o.identity_sources.append(where)
            return
        if keyword in ("userknownhostsfile", "globalknownhostsfile"):
            if "none" in (a.lower() for a in args) and len(args) > 1:
                raise ConfigProblem(where, f'keyword {keyword} "none" argument must appear alone.')
            if on:
                o.set(keyword, args, where)
            return
        if len(args) > 1 and keyword not in _MULTI_ARG:
            raise ConfigProblem(where, f"keyword {keyword} extra arguments at end of line")
        value = args[0] if args else ""
        if keyword == "port":
            port = a2port(value)
            if port <= 0:
                raise ConfigProblem(where, f"Bad port '{value}'.")
            if on:
                o.set("port", port, where)
            return
        if keyword == "stricthostkeychecking":
            if value.lower() not in _STRICT:
                raise ConfigProblem(where, f'unsupported option "{value}".')
            if on:
                o.set(keyword, _STRICT[value.lower()], where)
            return
        if on:
            o.set(keyword, value if len(args) <= 1 else " ".join(args), where)

    def match(self, rest: str, where: str) -> bool:
        o = self.opts
        port = o.get("port") or 22
        ruser = str(o.get("user") or self.local_user)
        if self.final:
            host = str(o.get("hostname"))
        elif o.get("hostname") is not None:
            host = expand(str(o.get("hostname")), {"h": self.host})
        else:
            host = self.host
        cp: str | None = rest
        result, attributes = True, 0
        while True:
            attrib, cp = strdelim(cp)
            if not attrib:
                break
            if attrib.startswith("#"):
                break
            negate = attrib.startswith("!")
            name = attrib[1:].lower() if negate else attrib.lower()
            if name == "all":
                nxt, _ = strdelim(cp)
                if attributes > 1 or (nxt and not nxt.startswith("#")):
                    raise ConfigProblem(where, f"'{attrib}' cannot be combined with other Match attributes")
                return (not negate) if result else False
            attributes += 1
            if name in ("canonical", "final"):
                if name == "final":
                    self.want_final = True
                if self.final == negate:
                    result = False
                continue
            arg, cp = strdelim(cp)
            if not arg or arg.startswith("#"):
                raise ConfigProblem(where, f"Missing Match criteria for {attrib}")
            if name == "host":
                hit = match_pattern_list(host.lower(), arg, lower=True)
            elif name == "originalhost":
                hit = match_pattern_list(self.original.lower(), arg, lower=True)
            elif name == "user":
                hit = match_pattern_list(ruser, arg)
            elif name == "localuser":
                hit = match_pattern_list(self.local_user, arg)
            elif name == "exec":
                if not result:
                    continue
                tokens = {
                    "d": self.home, "h": host, "n": self.original, "p": str(port), "r": ruser,
                    "u": self.local_user, "i": str(self.uid), "l": socket.gethostname(),
                    "L": socket.gethostname().split(".")[0],
                    "k": str(o.get("hostkeyalias") or host),
                }  # fmt: skip
                cmd = expand(arg, tokens)
                hit = subprocess.run(["/bin/sh", "-c", cmd], capture_output=True).returncode == 0
            else:
                raise ConfigProblem(where, f"Unsupported Match attribute {attrib}")
            if hit == negate:
                result = False
        if attributes == 0:
            raise ConfigProblem(where, "One or more attributes required for Match")
        return result


_MULTI_ARG = frozenset(
    [
        "sendenv",
        "setenv",
        "canonicaldomains",
        "canonicalizepermittedcnames",
        "ipqos",
        "rekeylimit",
        "localforward",
        "remoteforward",
        "permitremoteopen",
        "dynamicforward",
        "hostkeyalgorithms",
        "ignoreunknown",
        "logverbose",
    ]
)


def expand(text: str, tokens: dict[str, str], *, env: bool = False) -> str:
    """OpenSSH percent_expand (and ${VAR} with env=True); an unknown %x is an error there."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if env and text.startswith("${", i):
            end = text.find("}", i)
            if end < 0:
                raise ValueError(f"environment variable {text[i:]!r} misses its closing '}}'")
            name = text[i + 2 : end]
            if name not in os.environ:
                raise ValueError(f"env var ${{{name}}} has no value")
            out.append(os.environ[name])
            i = end + 1
            continue
        if c == "%":
            if i + 1 >= len(text):
                raise ValueError(f"invalid format in {text!r}")
            t = text[i + 1]
            if t == "%":
                out.append("%")
            elif t in tokens:
                out.append(tokens[t])
            else:
                raise ValueError(f"unknown key %{t} in {text!r}")
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def is_address(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except OSError:
            pass
    return False


def resolve(host_arg: str, config: str | None, cmdline: CommandLine | None = None) -> Resolved:
    """ssh_config applied to `host_arg` with `cmdline` first, as `ssh -G [opts] host_arg` would."""
    cmd = cmdline or CommandLine()
    opts = Options()
    src = cmd.source
    if cmd.user:
        opts.set("user", cmd.user, src)
    if cmd.port:
        opts.set("port", cmd.port, src)
    for ident in cmd.identity_files:
        opts.identity_files.append(ident)
        opts.identity_sources.append(src)
    if cmd.jump:
        opts.set("proxyjump", cmd.jump if cmd.jump == "none" else normalize_jump(cmd.jump), src)
    if cmd.proxy_command:
        opts.set("proxycommand", cmd.proxy_command, src)
    if cmd.user_known_hosts:
        opts.set("userknownhostsfile", [cmd.user_known_hosts], src)

    def one_pass(host: str, final: bool) -> bool:
        reader = _Reader(host, host_arg, opts, final)
        if config is not None:
            if config.lower() != "none" and not reader.read(tilde(config), user_conf=True):
                raise ConfigProblem(f"{config}:1", "Can't open user config file")
        else:
            reader.read(os.path.join(reader.home, ".ssh", "config"), user_conf=True)
            reader.read(SYSTEM_CONFIG, user_conf=False)
        return reader.want_final

    want_final = one_pass(host_arg, False)
    hostname = host_arg
    if opts.get("hostname") is not None:
        try:
            hostname = expand(str(opts.get("hostname")), {"h": host_arg})
        except ValueError as exc:
            raise ConfigProblem(opts.sources["hostname"], str(exc)) from exc
    if not is_address(hostname):
        hostname = hostname.lower()
    canon = str(opts.get("canonicalizehostname") or "no").lower()
    if want_final or canon not in ("no", "false"):
        opts.values["hostname"] = hostname
        one_pass(hostname, True)
    local_user = local_account()[0]
    user = str(opts.get("user") or local_user)
    port = int(opts.get("port") or 22)  # type: ignore[call-overload]
    tokens = client_tokens(hostname, port, user, host_arg, opts.get("hostkeyalias"))
    jump = opts.get("proxyjump")
    proxy = opts.get("proxycommand")
    configured = bool(opts.identity_files)
    where = opts.sources.get("userknownhostsfile", "ssh_config")
    ukh = [str(p) for p in (opts.get("userknownhostsfile") or DEFAULT_USER_KNOWN_HOSTS)]  # type: ignore[attr-defined]
    gkh = [str(p) for p in (opts.get("globalknownhostsfile") or DEFAULT_GLOBAL_KNOWN_HOSTS)]  # type: ignore[attr-defined]
    return Resolved(
        host=host_arg,
        hostname=hostname,
        user=user,
        port=port,
        identity_files=list(opts.identity_files) if configured else list(DEFAULT_IDENTITIES),
        identities_configured=configured,
        proxy_jump=None if jump in (None, "none") else str(jump),
        proxy_command=None if proxy is None or str(proxy).lower() == "none" else str(proxy),
        user_known_hosts=[] if ukh[:1] == ["none"] else [_expand_path(p, tokens, where) for p in ukh],
        global_known_hosts=[] if gkh[:1] == ["none"] else gkh,
        strict_host_key_checking=str(opts.get("stricthostkeychecking") or "ask"),
        host_key_alias=str(opts.get("hostkeyalias")) if opts.get("hostkeyalias") else None,
        identities_only=str(opts.get("identitiesonly") or "no").lower() in ("yes", "true"),
        ciphers=str(opts.get("ciphers")) if opts.get("ciphers") else None,
        sources=dict(opts.sources),
        identity_sources=list(opts.identity_sources),
    )


def client_tokens(hostname: str, port: int, user: str, host_arg: str, alias: object = None) -> dict[str, str]:
    """The tokens OpenSSH expands in IdentityFile, UserKnownHostsFile and friends."""
    import hashlib

    local_user, home, uid = local_account()
    this = socket.gethostname()
    conn_hash = hashlib.sha1(f"{this}{hostname}{port}{user}".encode()).hexdigest()
    return {
        "C": conn_hash, "L": this.split(".")[0], "i": str(uid), "k": str(alias or host_arg), "l": this,
        "n": host_arg, "p": str(port), "d": home, "h": hostname, "r": user, "u": local_user,
    }  # fmt: skip


def _expand_path(path: str, tokens: dict[str, str], where: str) -> str:
    try:
        return expand(tilde(path), tokens, env=True)
    except ValueError as exc:
        raise ConfigProblem(where, str(exc)) from exc


def expand_identity(path: str, tokens: dict[str, str], where: str) -> str:
    return _expand_path(path, tokens, where)


def user_config_path() -> Path:
    return Path(local_account()[1]) / ".ssh" / "config"
