"""Redis key audit: every key the suite touches is a family's or the platform's, and no family touches another's.

While tests run, redis-py's command execution (single commands, pipelines, pub/sub) is wrapped. Each key and
pub/sub channel a command names is noted; a family key (`<prefix>:family:<uuid>:…`) used while `g.family` is set
to a different family raises AssertionError in the test that did it, and fails that test even if the app swallowed
the error. At the end of the session, before the `app` fixture deletes its keys, the test Redis database is
scanned: a key under one of this run's prefixes must be `<prefix>:platform:…` or `<prefix>:family:<uuid>:…`, and a
key this run touched must be under one of its prefixes. Keys of other test runs sharing the database (their
`hptest<pid>` prefix, or names this run never touched, such as another checkout's queues) are counted, not judged.
Any violation fails the session; the terminal summary reports the counts.
"""
from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from flask import current_app, g, has_app_context
from redis.client import Pipeline, PubSub

RUN_PREFIX = f"hptest{os.getpid()}"  # the `app` fixture's REDIS_KEY_PREFIX
FAMILY_KEY = re.compile(r"^(?P<prefix>[^:]+):family:(?P<family>[0-9a-fA-F-]{36})(?::|$)")
# Commands whose keys COMMAND's first/last/step positions do not give.
NUMKEYS_AT = {"EVAL": 2, "EVALSHA": 2, "EVAL_RO": 2, "EVALSHA_RO": 2, "FCALL": 2, "FCALL_RO": 2,
              "LMPOP": 1, "ZMPOP": 1, "SINTERCARD": 1, "ZUNION": 1, "ZINTER": 1, "ZDIFF": 1, "ZINTERCARD": 1,
              "BLMPOP": 2, "BZMPOP": 2}
SUBCOMMAND_KEY_AT = {"OBJECT": 2, "XINFO": 2, "MEMORY": 2}
CHANNELS_FROM = {"PUBLISH": (1, 2), "SPUBLISH": (1, 2), "SUBSCRIBE": (1, None), "SSUBSCRIBE": (1, None),
                 "UNSUBSCRIBE": (1, None), "SUNSUBSCRIBE": (1, None), "PSUBSCRIBE": (1, None),
                 "PUNSUBSCRIBE": (1, None)}


@dataclass
class Audit:
    """What the wrapped commands saw, and what the final scan found."""

    prefixes: set[str] = field(default_factory=lambda: {RUN_PREFIX})
    touched: dict[str, str] = field(default_factory=dict)  # key or channel -> the test that first touched it
    commands: int = 0
    family_accesses: int = 0
    family_checked: int = 0
    cross_family: list[str] = field(default_factory=list)
    scanned: int = 0
    scanned_ours: int = 0
    scanned_foreign: int = 0
    violations: list[str] = field(default_factory=list)
    scanned_once: bool = False
    current_test: str = "(outside a test)"
    lock: threading.Lock = field(default_factory=threading.Lock)
    key_positions: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    def conforms(self, name: str) -> bool:
        """True when `name` is `<prefix>:platform:…` or `<prefix>:family:<uuid>:…` under one of the run's prefixes."""
        for prefix in self.prefixes:
            if name.startswith(f"{prefix}:platform:"):
                return True
            match = FAMILY_KEY.match(name)
            if match and match["prefix"] == prefix and _is_uuid(match["family"]) and name != match.group(0):
                return True
        return False

    def under_run_prefix(self, name: str) -> bool:
        return any(name.startswith(f"{prefix}:") for prefix in self.prefixes)


AUDIT = Audit()
_original: dict[str, Any] = {}
_local = threading.local()  # re-entrancy guard: the audit's own Redis calls are not audited


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def names_in(args: tuple[Any, ...]) -> list[str]:
    """The keys and pub/sub channels one command names (redis-py sends e.g. "PUBSUB NUMSUB" as one argument)."""
    if not args:
        return []
    words = [*_text(args[0]).split(), *args[1:]]
    command = _text(words[0]).upper()
    if command in CHANNELS_FROM:
        start, stop = CHANNELS_FROM[command]
        return [_text(w) for w in words[start:stop]]
    if command == "PUBSUB" and len(words) > 2 and _text(words[1]).upper() in ("NUMSUB", "SHARDNUMSUB"):
        return [_text(w) for w in words[2:]]
    if command in NUMKEYS_AT and len(words) > NUMKEYS_AT[command]:
        at = NUMKEYS_AT[command]
        count = int(_text(words[at]))
        return [_text(w) for w in words[at + 1:at + 1 + count]]
    if command in ("XREAD", "XREADGROUP"):
        upper = [_text(w).upper() for w in words]
        if "STREAMS" in upper:
            rest = words[upper.index("STREAMS") + 1:]
            return [_text(w) for w in rest[:len(rest) // 2]]
        return []
    if command in SUBCOMMAND_KEY_AT:
        at = SUBCOMMAND_KEY_AT[command]
        return [_text(words[at])] if len(words) > at else []
    first, last, step = AUDIT.key_positions.get(command.lower(), (0, 0, 0))
    if first <= 0 or step <= 0:
        return []
    stop = len(words) + last + 1 if last < 0 else last + 1
    return [_text(w) for w in words[first:stop:step]]


def check(args: tuple[Any, ...]) -> None:
    """Note the names a command uses; refuse a family key used while another family is current."""
    if getattr(_local, "busy", False):
        return
    names = names_in(args)
    current_family = None
    if has_app_context():
        prefix = current_app.config.get("REDIS_KEY_PREFIX")
        if prefix:
            AUDIT.prefixes.add(prefix)
        family = g.get("family")
        current_family = str(family.id) if family is not None else None
    with AUDIT.lock:
        AUDIT.commands += 1
        for name in names:
            AUDIT.touched.setdefault(name, AUDIT.current_test)
    for name in names:
        match = FAMILY_KEY.match(name)
        if match is None:
            continue
        with AUDIT.lock:
            AUDIT.family_accesses += 1
            if current_family is not None:
                AUDIT.family_checked += 1
        if current_family is not None and match["family"].lower() != current_family.lower():
            problem = (f"{AUDIT.current_test}: Redis {_text(args[0])} on {name!r} (family {match['family']}) "
                       f"while g.family is {current_family}")
            with AUDIT.lock:
                AUDIT.cross_family.append(problem)
            raise AssertionError(problem)


def _execute_command(self: redis.Redis, *args: Any, **options: Any) -> Any:
    check(args)
    return _original["execute_command"](self, *args, **options)


def _pipeline_execute(self: Pipeline, *args: Any, **kwargs: Any) -> Any:
    for command_args, _options in list(self.command_stack):
        check(command_args)
    return _original["pipeline_execute"](self, *args, **kwargs)


def _pipeline_immediate(self: Pipeline, *args: Any, **options: Any) -> Any:
    check(args)
    return _original["pipeline_immediate"](self, *args, **options)


def _pubsub_execute_command(self: PubSub, *args: Any) -> Any:
    check(args)
    return _original["pubsub_execute_command"](self, *args)


def _client() -> redis.Redis:
    from config import TestConfig

    return redis.Redis.from_url(TestConfig().REDIS_URL)


def _load_key_positions() -> None:
    _local.busy = True
    try:
        with _client() as client:
            for name, info in client.command().items():
                AUDIT.key_positions[name.lower()] = (int(info["first_key_pos"]), int(info["last_key_pos"]),
                                                     int(info["step_count"]))
    finally:
        _local.busy = False


def scan(keys: Iterable[str]) -> None:
    """Judge every key in the test database (see the module docstring for what counts as this run's)."""
    for key in keys:
        AUDIT.scanned += 1
        if AUDIT.conforms(key):
            AUDIT.scanned_ours += 1
        elif AUDIT.under_run_prefix(key):
            AUDIT.violations.append(f"{key!r} is under this run's prefix but is neither a family's nor the "
                                    f"platform's (first touched by {AUDIT.touched.get(key, 'nobody seen')})")
        elif key in AUDIT.touched:
            AUDIT.violations.append(f"{key!r} has no family or platform prefix (touched by {AUDIT.touched[key]})")
        else:
            AUDIT.scanned_foreign += 1  # another test run's (its own prefix, or names this run never used)


def _final_check() -> None:
    if AUDIT.scanned_once:
        return
    AUDIT.scanned_once = True
    _local.busy = True
    try:
        with _client() as client:
            scan(_text(key) for key in client.scan_iter(count=1000))
    except redis.RedisError as error:
        AUDIT.violations.append(f"the test Redis database could not be scanned: {error}")
    finally:
        _local.busy = False
    # Names that came and went during the run (deleted keys, pub/sub channels) are judged too.
    for name, test in AUDIT.touched.items():
        if not AUDIT.conforms(name) and not any(v.startswith(repr(name)) for v in AUDIT.violations):
            AUDIT.violations.append(f"{name!r} is neither a family key nor a platform key (touched by {test})")


def pytest_configure(config: pytest.Config) -> None:
    if _original:
        return
    _load_key_positions()
    _original.update(execute_command=redis.Redis.execute_command, pipeline_execute=Pipeline.execute,
                      pipeline_immediate=Pipeline.immediate_execute_command,
                      pubsub_execute_command=PubSub.execute_command)
    redis.Redis.execute_command = _execute_command  # type: ignore[method-assign]
    Pipeline.execute = _pipeline_execute  # type: ignore[method-assign]
    Pipeline.immediate_execute_command = _pipeline_immediate  # type: ignore[method-assign]
    PubSub.execute_command = _pubsub_execute_command  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    if not _original:
        return
    redis.Redis.execute_command = _original["execute_command"]  # type: ignore[method-assign]
    Pipeline.execute = _original["pipeline_execute"]  # type: ignore[method-assign]
    Pipeline.immediate_execute_command = _original["pipeline_immediate"]  # type: ignore[method-assign]
    PubSub.execute_command = _original["pubsub_execute_command"]  # type: ignore[method-assign]
    _original.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    AUDIT.current_test = item.nodeid
    try:
        return (yield)
    finally:
        AUDIT.current_test = "(outside a test)"


def _raise_if_crossed(before: int) -> None:
    found = AUDIT.cross_family[before:]
    if found:  # the app may have caught the AssertionError (an after-commit hook does): fail the test anyway
        raise AssertionError("a family key was used under another family:\n" + "\n".join(found))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    before = len(AUDIT.cross_family)
    result = yield
    _raise_if_crossed(before)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    before = len(AUDIT.cross_family)
    result = yield
    _raise_if_crossed(before)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    if nextitem is None:
        _final_check()  # before the session fixtures are torn down: the `app` fixture deletes its keys
    before = len(AUDIT.cross_family)
    result = yield
    _raise_if_crossed(before)
    return result


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Iterator[None]:
    _final_check()  # a run stopped early (-x) tears its session fixtures down only now
    if AUDIT.violations or AUDIT.cross_family:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    return (yield)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    write = terminalreporter.write_line
    terminalreporter.section("Redis key audit")
    write(f"prefixes of this run: {', '.join(sorted(AUDIT.prefixes))}")
    write(f"{AUDIT.commands} commands audited, {len(AUDIT.touched)} distinct keys/channels, "
          f"{AUDIT.family_accesses} family-key accesses ({AUDIT.family_checked} checked against g.family, "
          f"{len(AUDIT.cross_family)} crossed families)")
    write(f"{AUDIT.scanned} keys scanned at the end: {AUDIT.scanned_ours} this run's, "
          f"{AUDIT.scanned_foreign} other runs', {len(AUDIT.violations)} violations")
    for violation in AUDIT.violations[:50]:
        write(f"  VIOLATION {violation}", red=True)
    if len(AUDIT.violations) > 50:
        write(f"  … and {len(AUDIT.violations) - 50} more", red=True)
