"""Routing against the real Alertmanager: amtool 0.25 is the oracle for every label set.

For each config (the shared corpus and `routing_configs/`), seeded random label sets built from
the names and values the config uses, plus noise, are routed by amtool, by
`core-alerts routes test --jsonl` and by the Python API; all three must agree line by line.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core_alerts.domain.matchers import MatchOp, parse_matchers
from core_alerts.routing import RouteConfig, RoutingTree, load_config_file
from tests.support.services import missing, need_binary

pytestmark = pytest.mark.integration

_REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CORE_ALERTS_SHARED", _REPO.parent / "shared"))
ORACLE = SHARED / "tools" / "amtool-route-oracle.sh"
CORPUS = SHARED / "data" / "alertmanager"
OWN_CONFIGS = sorted((Path(__file__).parent / "routing_configs").glob("*.yml"))
SHARED_CONFIGS = ["route_match.yml", "differential.yml"]
SETS_PER_CONFIG = 300
NOISE_NAMES = ["instance", "noise", "job"]
NOISE_VALUES = ["", "x", "a b", " lead", "trail ", "a,b", 'q"q', "back\\slash", "new\nline", "Σ"]
CLI = [sys.executable, "-m", "core_alerts.cli"]


def _walk(route: RouteConfig) -> Iterator[RouteConfig]:
    yield route
    for child in route.routes:
        yield from _walk(child)


def _vocabulary(config_path: Path) -> tuple[list[str], list[str]]:
    """Label names and candidate values taken from the config's matchers."""
    names, values = set(NOISE_NAMES), set(NOISE_VALUES)
    for route in _walk(load_config_file(str(config_path)).route):
        for matcher in route.matchers:
            names.add(matcher.name)
            values.add(matcher.value)
            if matcher.op in (MatchOp.RE, MatchOp.NRE):
                bare = matcher.value.removeprefix("^(?:").removesuffix(")$")
                for part in bare.replace("(", "").replace(")", "").split("|"):
                    values.update({part, part.replace(".*", ""), part.replace(".*", "-x")})
                    values.add(part.replace("\\d+", "42").replace(".+", "y"))
    return sorted(names), sorted(values)


def _label_sets(config_path: Path, count: int, seed: int) -> list[dict[str, str]]:
    names, values = _vocabulary(config_path)
    rng = random.Random(seed)
    sets: list[dict[str, str]] = [{}]
    while len(sets) < count:
        chosen = rng.sample(names, rng.randint(1, min(len(names), 6)))
        sets.append({name: rng.choice(values) for name in chosen})
    return sets


def _corpus_sets(name: str) -> list[dict[str, str]]:
    routing = CORPUS / "routing"
    if name == "route_match.yml":
        return [
            case["labels"] for case in json.loads((routing / "route_match_cases.json").read_text())
        ]
    if name == "differential.yml":
        lines = (routing / "differential_cases.jsonl").read_text().splitlines()
        return [json.loads(line)["labels"] for line in lines if line.strip()]
    return []


def _configs() -> list[Any]:
    shared = [pytest.param(CORPUS / "routing" / name, id=name) for name in SHARED_CONFIGS]
    return shared + [pytest.param(path, id=path.name) for path in OWN_CONFIGS]


def _jsonl(sets: list[dict[str, str]]) -> str:
    return "".join(json.dumps(labels, ensure_ascii=False) + "\n" for labels in sets)


def _run(command: list[str], stdin: str) -> list[dict[str, Any]]:
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture(scope="module")
def oracle() -> Path:
    need_binary("amtool")
    if not ORACLE.is_file():
        missing(f"the routing oracle at {ORACLE} (set CORE_ALERTS_SHARED)")
    return ORACLE


@pytest.mark.parametrize("config_path", _configs())
def test_routes_agree_with_amtool(oracle: Path, config_path: Path) -> None:
    if not config_path.is_file():
        missing(f"the routing corpus at {config_path} (set CORE_ALERTS_SHARED)")
    seed = sum(config_path.name.encode())
    sets = _corpus_sets(config_path.name) + _label_sets(config_path, SETS_PER_CONFIG, seed)
    stdin = _jsonl(sets)
    expected = _run(["bash", str(oracle), str(config_path), "--jsonl"], stdin)
    ours = _run([*CLI, "routes", "test", f"--config.file={config_path}", "--jsonl"], stdin)
    tree = RoutingTree.from_config(load_config_file(str(config_path)))

    assert len(expected) == len(ours) == len(sets) >= SETS_PER_CONFIG
    assert ours == expected
    for labels, answer in zip(sets, expected, strict=True):
        assert "error" not in answer, answer
        assert [match.receiver for match in tree.route(labels)] == answer["receivers"], labels
    # The random sets must reach more than the root receiver, or they prove little.
    assert len({tuple(answer["receivers"]) for answer in expected}) >= 3


def test_enough_label_sets_in_total() -> None:
    total = sum(SETS_PER_CONFIG + len(_corpus_sets(name)) for name in SHARED_CONFIGS)
    total += SETS_PER_CONFIG * len(OWN_CONFIGS)
    assert len(OWN_CONFIGS) >= 5
    assert total >= 2000


def test_cli_prints_what_amtool_prints(oracle: Path) -> None:
    config = OWN_CONFIGS[0].parent / "continue.yml"
    args = ["severity=critical", "team=db", "service=postgres", "env=prod"]
    amtool = subprocess.run(
        ["bash", str(oracle), str(config), *args], capture_output=True, text=True, check=True
    )
    ours = subprocess.run(
        [*CLI, "routes", "test", f"--config.file={config}", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    assert ours.stdout == amtool.stdout == "audit,pg,db-prod,db-prod,audit,prod\n"


def test_classic_compliance_vectors_parse_as_amtool_0_25() -> None:
    path = CORPUS / "matchers" / "compliance_cases.json"
    if not path.is_file():
        missing(f"the matcher corpus at {path} (set CORE_ALERTS_SHARED)")
    for case in json.loads(path.read_text(encoding="utf-8")):
        expected = case["amtool_0_25"]
        if "error" in expected:
            with pytest.raises(ValueError):
                parse_matchers(case["input"])
        else:
            # amtool shows a route's matchers sorted by name, value, operator.
            ops = list(MatchOp)
            parsed = sorted(
                ([m.name, m.op.value, m.value] for m in parse_matchers(case["input"])),
                key=lambda m: (m[0], m[2], ops.index(MatchOp(m[1]))),
            )
            assert parsed == expected["parsed"], case["input"]
