"""Configuration in one place: TOML → `AppConfig` (engine settings + console settings).

A config with an unknown key, a wrong type or an impossible rule order is refused at start with the
file, the line and the reason: a typo must never silently fall back to a default.
"""

from __future__ import annotations

import getpass
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from platformdirs import user_config_path, user_data_path

from checks.classify import shadowed_rules
from checks.config import (
    DEFAULT_RULES,
    CanaryConfig,
    DnsConfig,
    EngineConfig,
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


class ConfigError(Exception):
    """A configuration that cannot be used; the message names file, line and reason."""


@dataclass(frozen=True, slots=True)
class AppConfig:
    engine: EngineConfig = field(default_factory=EngineConfig)
    store_path: Path = field(default_factory=lambda: default_store_path())
    language: str = "th"
    operator: str = field(default_factory=lambda: default_operator())
    keys: dict[str, str] = field(default_factory=dict)
    history_limit: int = 10
    export_dir: Path = field(default_factory=Path.cwd)
    source: Path | None = None  # the file it came from
    watch: WatchConfig = field(default_factory=WatchConfig)  # [watch]: the watcher's schedule

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
}
_GENERAL_KEYS: dict[str, type | tuple[type, ...]] = {
    "language": str,
    "operator": str,
    "store": str,
    "export_dir": str,
    "history_limit": int,
}
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
    return replace(defaults, **changes)


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


def _rules(data: dict[str, Any], where: _Located) -> tuple[Rule, ...]:
    raw = data.get("rules")
    if raw is None:
        return DEFAULT_RULES
    if not isinstance(raw, list) or not raw:
        raise where.error("must be a non-empty list of [[rules]] tables", "rules")
    rules: list[Rule] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise where.error("each rule must be a table", "rules", None, index)
        values: dict[str, Any] = {}
        for key, value in item.items():
            kind = _RULE_KEYS.get(key)
            if kind is None:
                raise where.error(f"unknown key in rule {index + 1} (known: {', '.join(_RULE_KEYS)})", "rules", key, index)
            if kind is list:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise where.error(f"rule {index + 1}: must be a list of finding codes", "rules", key, index)
                unknown = [v for v in value if v not in FINDING_CODES]
                if unknown:
                    raise where.error(
                        f"rule {index + 1}: unknown finding code {unknown[0]!r} (known: {', '.join(sorted(FINDING_CODES))})",
                        "rules",
                        key,
                        index,
                    )
                values[key] = tuple(value)
            else:
                if not isinstance(value, str):
                    raise where.error(f"rule {index + 1}: must be text", "rules", key, index)
                values[key] = value
        if not values.get("group"):
            raise where.error(f"rule {index + 1} has no group", "rules", None, index)
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
    return tuple(rules)


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


def parse_config(text: str, path: Path) -> AppConfig:
    """Parse and validate TOML text; raises ConfigError naming the line and the reason."""
    where = _Located(path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    allowed = {"general", "dns", "smtp", "limits", "canary", "policy", "rules", "keys", "watch"}
    for key in data:
        if key not in allowed:
            raise where.error(f"unknown section (known: {', '.join(sorted(allowed))})", key)
    general = data.get("general", {})
    if not isinstance(general, dict):
        raise where.error("must be a table", "general")
    for key, value in general.items():
        kind = _GENERAL_KEYS.get(key)
        if kind is None:
            raise where.error(f"unknown key (known: {', '.join(_GENERAL_KEYS)})", "general", key)
        if isinstance(value, bool) or not isinstance(value, kind):
            raise where.error(f"must be {_type_name(kind)}, not {value!r}", "general", key)
    language = general.get("language", "th")
    if language not in ("th", "en"):
        raise where.error("must be \"th\" or \"en\"", "general", "language")
    keys = data.get("keys", {})
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise where.error("must be a table of binding_id = \"key\"", "keys")
    dns = _section(data, "dns", DnsConfig, where)
    if dns.port == 0 or dns.port > 65535:
        raise where.error("must be a port number 1-65535", "dns", "port")
    smtp = _section(data, "smtp", SmtpConfig, where)
    if smtp.port == 0 or smtp.port > 65535:
        raise where.error("must be a port number 1-65535", "smtp", "port")
    if any(c in smtp.helo_name + smtp.mail_from for c in "\r\n <>"):
        raise where.error("must not contain spaces, angle brackets or line breaks", "smtp", "mail_from")
    smtp = replace(smtp, proxy=_proxy(smtp.proxy, where))
    limits = _section(data, "limits", PolitenessConfig, where)
    for key in ("max_sessions_per_host", "rcpt_per_session", "sessions_per_minute", "max_concurrent_sessions"):
        if getattr(limits, key) < 1:
            raise where.error("must be at least 1", "limits", key)
    canary = _section(data, "canary", CanaryConfig, where)
    if canary.connect and not re.fullmatch(r"[\w.\-\[\]:]+:\d{1,5}", canary.connect, re.ASCII):
        raise where.error("must be host:port", "canary", "connect")
    engine = EngineConfig(
        dns=replace(dns, nameservers=tuple(dns.nameservers)),
        smtp=smtp,
        politeness=limits,
        canary=canary,
        policy=_policy(data, where),
        rules=_rules(data, where),
    )
    store = general.get("store") or ""
    export_dir = general.get("export_dir") or ""
    return AppConfig(
        engine=engine,
        store_path=Path(store).expanduser() if store else default_store_path(),
        language=language,
        operator=general.get("operator") or default_operator(),
        keys=dict(keys),
        history_limit=general.get("history_limit", 10),
        export_dir=Path(export_dir).expanduser() if export_dir else Path.cwd(),
        source=path,
        watch=_watch(data, where),
    )


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
            return AppConfig()
        path = candidate
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such config file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    return parse_config(text, path)
