"""Configuration in one place: TOML → `AppConfig` (engine settings + console settings).

A config with an unknown key, a wrong type or an impossible rule order is refused at start with the
file, the line and the reason: a typo must never silently fall back to a default.
"""

from __future__ import annotations

import getpass
import ipaddress
import itertools
import math
import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from platformdirs import user_config_path, user_data_path

from checks.classify import first_rule, rule_holds, shadowed_rules
from checks.config import (
    DEFAULT_RULES,
    NEVER_READY,
    RANGES,
    CanaryConfig,
    DnsConfig,
    DoctorConfig,
    EngineConfig,
    PilotConfig,
    PolicyConfig,
    PolitenessConfig,
    Rule,
    SmtpConfig,
    SocksProxy,
    parse_socks_url,
)
from checks.model import FINDING_CODES
from console.watch.schedule import WatchConfig

APP_NAME = "saraban"
_MAX_OPERATOR = 200  # the store keeps operator names up to this length (console.store.MAX_SHORT)


class ConfigError(Exception):
    """A configuration that cannot be used; the message names file, line and reason."""


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    """[console]: how the console opens. `province`: the filter it starts with and Esc comes back to
    (a provincial helpdesk works on its own province); empty = every agency."""

    province: str = ""


@dataclass(frozen=True, slots=True)
class AppConfig:
    engine: EngineConfig = field(default_factory=EngineConfig)
    store_path: Path = field(default_factory=lambda: default_store_path())
    language: str = "th"
    operator: str = field(default_factory=lambda: default_operator())
    keys: dict[str, str] = field(default_factory=dict)
    history_limit: int = 10
    lock_timeout: float | None = None  # seconds to wait for another process's store write; None: the store's 30 s
    export_dir: Path = field(default_factory=Path.cwd)
    source: Path | None = None  # the file it came from
    watch: WatchConfig = field(default_factory=WatchConfig)  # [watch]: the watcher's schedule
    console: ConsoleSettings = field(default_factory=ConsoleSettings)  # [console]: the opening filter

    def rule(self, group: str) -> Rule | None:
        return next((r for r in self.engine.rules if r.group == group), None)


def default_store_path() -> Path:
    return user_data_path(APP_NAME, appauthor=False) / "store.json"


def default_config_path() -> Path:
    return user_config_path(APP_NAME, appauthor=False) / "config.toml"


def default_operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return os.environ.get("USER", "operator")


# section → (dataclass, {toml key: type})
_SECTIONS: dict[str, type] = {
    "dns": DnsConfig,
    "smtp": SmtpConfig,
    "limits": PolitenessConfig,
    "canary": CanaryConfig,
    "doctor": DoctorConfig,
    "pilot": PilotConfig,
}
_GENERAL_KEYS: dict[str, type | tuple[type, ...]] = {
    "language": str,
    "operator": str,
    "store": str,
    "export_dir": str,
    "history_limit": int,
    "lock_timeout": (int, float),
    "allow_unsafe_rules": bool,
}
# Ranges of the console's own numbers (the engine's are checks.config.RANGES); config.example.toml says them.
_CONSOLE_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "watch": {
        "waiting_interval": (0.1, 604_800),
        "e_first_delay": (0.1, 604_800),
        "e_max_delay": (0.1, 604_800),
        "daily_interval": (0.1, 604_800),
        "poll": (0.05, 3600),
    },
}
MAX_CONFIG_BYTES = 1_000_000  # the example is ~12 KB; a bigger file is not a hand-written config
HISTORY_RANGE = (0, 1000)
LOCK_TIMEOUT_RANGE = (0.1, 3600)
MAX_GROUP = 16
MAX_RULE_TEXT = 1_000
_POLICY_LIST_KEYS = ("government_suffixes", "registered_domains", "free_mail_domains", "well_known_domains")
_RULE_KEYS: dict[str, type] = {
    "group": str,
    "label_th": str,
    "label_en": str,
    "any_of": list,
    "all_of": list,
    "none_of": list,
    "problem_th": str,
    "fix_th": str,
    "problem_en": str,
    "fix_en": str,
    "bucket": str,
}


class _Located:
    """Finds the line of a key in the TOML text, so errors can point at it."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def line(self, section: str | None, key: str | None = None, occurrence: int = 0) -> int | None:
        header = re.compile(r"^\s*\[\[?\s*" + re.escape(section) + r"\s*\]\]?\s*(#.*)?$") if section else None
        inside = section is None
        seen = -1
        for number, raw in enumerate(self.lines, start=1):
            if header is not None and header.match(raw):
                seen += 1
                inside = seen == occurrence
                if inside and key is None:
                    return number
                continue
            if re.match(r"^\s*\[", raw):
                if inside and section is not None and seen >= occurrence:
                    inside = False
                if section is None:
                    inside = False
                continue
            if inside and key is not None and re.match(r'^\s*"?' + re.escape(key) + r'"?\s*=', raw):
                return number
        return None

    def error(self, reason: str, section: str | None, key: str | None = None, occurrence: int = 0) -> ConfigError:
        number = self.line(section, key, occurrence)
        where = f"{self.path}:{number}" if number else str(self.path)
        name = ".".join(p for p in (section, key) if p)
        return ConfigError(f"{where}: {name}: {reason}" if name else f"{where}: {reason}")


def _type_name(kind: Any) -> str:
    if kind == (int, float):
        return "a number"
    if isinstance(kind, tuple):
        return " or ".join(_type_name(k) for k in kind)
    return {str: "text", int: "a whole number", float: "a number", bool: "true/false", list: "a list", tuple: "a list"}.get(
        kind, getattr(kind, "__name__", str(kind))
    )


def _coerce(value: Any, default: Any, where: _Located, section: str, key: str) -> Any:
    """Check a value against the type of its default; ints are accepted for floats."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise where.error(f"must be true or false, not {value!r}", section, key)
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise where.error(f"must be a number, not {value!r}", section, key)
        if not math.isfinite(value):
            raise where.error(f"must be a finite number, not {value!r}", section, key)
        if value < 0:
            raise where.error("must not be negative", section, key)
        return float(value)
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise where.error(f"must be a whole number, not {value!r}", section, key)
        if value < 0:
            raise where.error("must not be negative", section, key)
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise where.error(f"must be text, not {value!r}", section, key)
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise where.error("must be a list of text", section, key)
        return tuple(value)
    return value


def _section(data: dict[str, Any], name: str, cls: type, where: _Located) -> Any:
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        raise where.error("must be a table", name)
    defaults = cls()
    known = {f.name for f in fields(cls)}
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise where.error(f"unknown key (known: {', '.join(sorted(known))})", name, key)
        changes[key] = _coerce(value, getattr(defaults, key), where, name, key)
        _in_range(changes[key], {**RANGES, **_CONSOLE_RANGES}.get(name, {}).get(key), where, name, key)
    return replace(defaults, **changes)


def _in_range(value: Any, bounds: tuple[float, float] | None, where: _Located, section: str, key: str) -> None:
    if bounds is None or isinstance(value, bool) or not isinstance(value, int | float):
        return
    low, high = bounds
    if not low <= value <= high:
        bound = f"at least {low:g}" if value < low else f"at most {high:g}"
        raise where.error(f"must be {bound}, not {value!r} (range {low:g} to {high:g})", section, key)


_UNSAFE_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")


def _has_controls(text: str) -> bool:
    """Control, format (bidi, zero-width) or separator characters: never part of a name or label."""
    return any(unicodedata.category(c) in _UNSAFE_CATEGORIES for c in text)


def _identity(value: str, where: _Located, section: str, key: str, limit: int) -> str:
    if _has_controls(value):
        raise where.error("must not contain control, escape or invisible characters", section, key)
    if len(value) > limit:
        raise where.error(f"is {len(value):,} characters long; at most {limit:,}", section, key)
    return value


def _policy(data: dict[str, Any], where: _Located) -> PolicyConfig:
    raw = data.get("policy", {})
    if not isinstance(raw, dict):
        raise where.error("must be a table", "policy")
    defaults = PolicyConfig()
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _POLICY_LIST_KEYS:
            changes[key] = tuple(v.strip().lower() for v in _coerce(value, (), where, "policy", key))
        elif key == "kind_allowances":
            if not isinstance(value, dict):
                raise where.error("must be a table of kind = [suffixes]", "policy", key)
            allowances: dict[str, tuple[str, ...]] = {}
            for kind, suffixes in value.items():
                allowances[kind.strip()] = tuple(
                    s.strip().lower() for s in _coerce(suffixes, (), where, "policy.kind_allowances", kind)
                )
            changes[key] = allowances
        else:
            known = (*_POLICY_LIST_KEYS, "kind_allowances")
            raise where.error(f"unknown key (known: {', '.join(known)})", "policy", key)
    return replace(defaults, **changes)


def _rule_value(key: str, value: object, index: int, where: _Located) -> object:
    """One key of one [[rules]] table, checked: a list of known finding codes, or text."""
    kind = _RULE_KEYS.get(key)
    if kind is None:
        raise where.error(f"unknown key in rule {index + 1} (known: {', '.join(_RULE_KEYS)})", "rules", key, index)
    if kind is not list:
        if not isinstance(value, str):
            raise where.error(f"rule {index + 1}: must be text", "rules", key, index)
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise where.error(f"rule {index + 1}: must be a list of finding codes", "rules", key, index)
    unknown = [v for v in value if v not in FINDING_CODES]
    if unknown:
        known = ", ".join(sorted(FINDING_CODES))
        raise where.error(f"rule {index + 1}: unknown finding code {unknown[0]!r} (known: {known})", "rules", key, index)
    return tuple(value)


def _rules(data: dict[str, Any], where: _Located, allow_unsafe: bool = False) -> tuple[Rule, ...]:
    raw = data.get("rules")
    if raw is None:
        return DEFAULT_RULES
    if not isinstance(raw, list) or not raw:
        raise where.error("must be a non-empty list of [[rules]] tables", "rules")
    rules: list[Rule] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise where.error("each rule must be a table", "rules", None, index)
        values: dict[str, Any] = {key: _rule_value(key, value, index, where) for key, value in item.items()}
        if not values.get("group"):
            raise where.error(f"rule {index + 1} has no group", "rules", None, index)
        for key, value in values.items():
            if isinstance(value, str):
                _identity(value, where, "rules", key, MAX_GROUP if key == "group" else MAX_RULE_TEXT)
        if any(c.isspace() for c in values["group"]):
            raise where.error(f"rule {index + 1}: a group name has no spaces", "rules", "group", index)
        if any(r.group == values["group"] for r in rules):
            raise where.error(
                f"rule {index + 1}: group {values['group']!r} is used by an earlier rule; give each rule its own group",
                "rules",
                "group",
                index,
            )
        if "label_th" not in values:
            values["label_th"] = values["group"]
        if values.get("bucket", "BE") not in ("A", "BE", "W", ""):
            raise where.error(f"rule {index + 1}: bucket must be A, BE or W", "rules", "bucket", index)
        if not (values.get("any_of") or values.get("all_of")):
            raise where.error(f"rule {index + 1} ({values['group']}) has no condition (any_of / all_of)", "rules", None, index)
        rules.append(Rule(**values))
    for later, earlier in shadowed_rules(rules):
        raise where.error(
            f"impossible rule order: rule {later + 1} ({rules[later].group}) can never apply because rule "
            f"{earlier + 1} ({rules[earlier].group}) always matches first; move it above",
            "rules",
            None,
            later,
        )
    unsafe = unsafe_rules(rules) if not allow_unsafe else []
    if unsafe:
        index = unsafe[0][0]
        codes = ", ".join(code for i, code in unsafe if i == index)
        raise where.error(
            f"rule {index + 1} ({rules[index].group}, bucket A) would count an address with {codes} as ready; "
            "change the rule, or set allow_unsafe_rules = true under [general] if you really mean it",
            "rules",
            None,
            index,
        )
    return tuple(rules)


_HOST_NAME = re.compile(r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))+\.?", re.ASCII)


def _doctor(data: dict[str, Any], where: _Located) -> DoctorConfig:
    """[doctor]: names must be host names and the address an IPv4 address, refused at start otherwise."""
    doctor = _section(data, "doctor", DoctorConfig, where)
    for key in ("reference_hosts", "dnsbl_zones"):
        for name in getattr(doctor, key):
            if not _HOST_NAME.fullmatch(name):
                raise where.error(f"{name!r} is not a DNS name (like zen.spamhaus.org)", "doctor", key)
    if doctor.public_ip:
        try:
            ipaddress.IPv4Address(doctor.public_ip)
        except ValueError:
            raise where.error(f"{doctor.public_ip!r} is not an IPv4 address", "doctor", "public_ip") from None
    if doctor.public_ip_type not in ("A", "TXT"):
        raise where.error('must be "A" or "TXT"', "doctor", "public_ip_type")
    if doctor.public_ip_port == 0 or doctor.public_ip_port > 65535:
        raise where.error("must be a port number 1-65535", "doctor", "public_ip_port")
    if not (_HOST_NAME.fullmatch(doctor.public_ip_resolver) or _is_ip(doctor.public_ip_resolver)):
        raise where.error("must be a DNS name or an IP address", "doctor", "public_ip_resolver")
    return doctor


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def default_canary(canary: CanaryConfig, smtp: SmtpConfig, doctor: DoctorConfig) -> CanaryConfig:
    """The canary is on by default: "" means mail_from's domain / the first reference host's port 25;
    "off" turns that half off."""
    resolve, connect = canary.resolve, canary.connect
    if resolve == "":
        resolve = smtp.mail_from.rpartition("@")[2]
    if connect == "" and doctor.reference_hosts:
        connect = f"{doctor.reference_hosts[0]}:{smtp.port}"
    return replace(
        canary,
        resolve="" if resolve == "off" else resolve,
        connect="" if connect in ("off", "") else connect,
    )


def unsafe_rules(rules: tuple[Rule, ...] | list[Rule]) -> list[tuple[int, str]]:
    """(rule index, finding code) where a finding of NEVER_READY can end in the A bucket.

    A finding set reaches rule k only if no earlier rule holds for it; adding a code only ever makes
    more rules hold, except codes in an earlier rule's none_of, so those are the only extras tried.
    """
    found: list[tuple[int, str]] = []
    for index, rule in enumerate(rules):
        if rule.bucket != "A":
            continue
        escapes = sorted({c for r in rules[:index] for c in r.none_of} - set(rule.none_of))[:12]
        for code in NEVER_READY:
            if _reaches(rules, index, code, escapes):
                found.append((index, code))
    return found


def _reaches(rules: tuple[Rule, ...] | list[Rule], index: int, code: str, escapes: list[str]) -> bool:
    rule = rules[index]
    for extra in rule.any_of or ("",):
        base = {code, *rule.all_of, *([extra] if extra else [])}
        for n in range(len(escapes) + 1):
            for combo in itertools.combinations(escapes, n):
                codes = base | set(combo)
                if rule_holds(rule, codes) and (hit := first_rule(rules, codes)) is not None and hit[0] == index:
                    return True
    return False


def _proxy(value: object, where: _Located) -> SocksProxy | None:
    """`[smtp] proxy`: empty or absent = direct; otherwise a socks5:// URL, refused at start when malformed."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise where.error(f"must be text like \"socks5://host:port\", not {value!r}", "smtp", "proxy")
    try:
        return parse_socks_url(value)
    except ValueError as exc:
        raise where.error(str(exc), "smtp", "proxy") from None


def _general(data: dict[str, Any], where: _Located) -> dict[str, Any]:
    """`[general]`, checked: known keys of the right types, language th or en."""
    general = data.get("general", {})
    if not isinstance(general, dict):
        raise where.error("must be a table", "general")
    for key, value in general.items():
        kind = _GENERAL_KEYS.get(key)
        if kind is None:
            raise where.error(f"unknown key (known: {', '.join(_GENERAL_KEYS)})", "general", key)
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            raise where.error(f"must be {_type_name(kind)}, not {value!r}", "general", key)
    if general.get("language", "th") not in ("th", "en"):
        raise where.error("must be \"th\" or \"en\"", "general", "language")
    return general


def parse_config(text: str, path: Path) -> AppConfig:
    """Parse and validate TOML text; raises ConfigError naming the line and the reason."""
    where = _Located(path, text)
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: {len(text):,} characters is too big for a config (at most {MAX_CONFIG_BYTES:,})")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: values nested too deeply; a saraban config nests at most a few levels") from exc
    allowed = {"general", "dns", "smtp", "limits", "canary", "doctor", "pilot", "policy", "rules", "keys", "watch", "console"}
    for key in data:
        if key not in allowed:
            raise where.error(f"unknown section (known: {', '.join(sorted(allowed))})", key)
    general = _general(data, where)
    language = general.get("language", "th")
    keys = data.get("keys", {})
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise where.error("must be a table of binding_id = \"key\"", "keys")
    dns = _section(data, "dns", DnsConfig, where)
    if dns.port == 0 or dns.port > 65535:
        raise where.error("must be a port number 1-65535", "dns", "port")
    smtp = _smtp(data, where)
    limits = _section(data, "limits", PolitenessConfig, where)
    doctor = _doctor(data, where)
    pilot = _section(data, "pilot", PilotConfig, where)
    canary = default_canary(_section(data, "canary", CanaryConfig, where), smtp, doctor)
    if canary.connect and not re.fullmatch(r"[\w.\-\[\]:]+:\d{1,5}", canary.connect, re.ASCII):
        raise where.error("must be host:port", "canary", "connect")
    engine = EngineConfig(
        dns=replace(dns, nameservers=tuple(dns.nameservers)),
        smtp=smtp,
        politeness=limits,
        canary=canary,
        doctor=doctor,
        pilot=pilot,
        policy=_policy(data, where),
        rules=_rules(data, where, general.get("allow_unsafe_rules", False)),
    )
    operator = _identity(general.get("operator", ""), where, "general", "operator", _MAX_OPERATOR).strip()
    history_limit = general.get("history_limit", 10)
    _in_range(history_limit, HISTORY_RANGE, where, "general", "history_limit")
    lock_timeout = _lock_timeout(general, where)
    for key in ("store", "export_dir"):
        if "\x00" in general.get(key, ""):
            raise where.error("must not contain a NUL character", "general", key)
    store = general.get("store") or ""
    export_dir = general.get("export_dir") or ""
    return AppConfig(
        engine=engine,
        store_path=Path(store).expanduser() if store else default_store_path(),
        language=language,
        operator=operator or default_operator(),
        keys=dict(keys),
        history_limit=history_limit,
        lock_timeout=lock_timeout,
        export_dir=Path(export_dir).expanduser() if export_dir else Path.cwd(),
        source=path,
        watch=_watch(data, where),
        console=_console(data, where),
    )


def _smtp(data: dict[str, Any], where: _Located) -> SmtpConfig:
    smtp = _section(data, "smtp", SmtpConfig, where)
    if smtp.port == 0 or smtp.port > 65535:
        raise where.error("must be a port number 1-65535", "smtp", "port")
    for key, limit in (("helo_name", 255), ("mail_from", 254)):
        value = getattr(smtp, key)
        if any(c in value for c in "\r\n <>"):
            raise where.error("must not contain spaces, angle brackets or line breaks", "smtp", key)
        _identity(value, where, "smtp", key, limit)
    return replace(smtp, proxy=_proxy(smtp.proxy, where))


def _lock_timeout(general: dict[str, Any], where: _Located) -> float | None:
    """Seconds a command waits for another's store lock; None: the store's default."""
    lock_timeout = general.get("lock_timeout")
    if lock_timeout is None:
        return None
    if not math.isfinite(lock_timeout):
        raise where.error(f"must be a finite number of seconds, not {lock_timeout!r}", "general", "lock_timeout")
    _in_range(lock_timeout, LOCK_TIMEOUT_RANGE, where, "general", "lock_timeout")
    return float(lock_timeout)


def _console(data: dict[str, Any], where: _Located) -> ConsoleSettings:
    settings = _section(data, "console", ConsoleSettings, where)
    if _has_controls(settings.province) or len(settings.province) > _MAX_OPERATOR:
        raise where.error("must be a province name (one line of text)", "console", "province")
    return replace(settings, province=settings.province.strip())


def _watch(data: dict[str, Any], where: _Located) -> WatchConfig:
    watch = _section(data, "watch", WatchConfig, where)
    for key in ("waiting_interval", "e_first_delay", "daily_interval", "poll"):
        if getattr(watch, key) <= 0:
            raise where.error("must be more than 0 seconds", "watch", key)
    return watch


def load_config(path: Path | str | None = None) -> AppConfig:
    """Load the given config, else the user's default file if it exists, else built-in defaults."""
    if path is None:
        candidate = default_config_path()
        if not candidate.exists():
            engine = EngineConfig()
            return AppConfig(engine=replace(engine, canary=default_canary(engine.canary, engine.smtp, engine.doctor)))
        path = candidate
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: bigger than {MAX_CONFIG_BYTES:,} bytes; this is not a saraban config")
        text = raw.decode("utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such config file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    return parse_config(text, path)
