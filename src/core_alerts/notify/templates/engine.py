"""TemplateEngine: Jinja2 in an immutable sandbox, with caps on time, output and operands.

Alert data is only ever passed as variables, never compiled: a label holding `{{ ... }}`
prints as text. Every interpolated value is escaped for the target (HTML, Slack mrkdwn,
Markdown); the template's own literal text is not, so a template can still write markup.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any, Literal

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from core_alerts.domain.errors import ValidationFailed

Escape = Literal["none", "html", "slack", "markdown"]

MAX_OUTPUT = 256 * 1024
"""Characters one render may produce."""
MAX_SECONDS = 1.0
"""Wall time one render may take."""
MAX_SOURCE = 64 * 1024
"""Characters of one template's source."""
_MAX_OPERAND = 64 * 1024
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<])")
_FORMAT_WIDTH = re.compile(r"%[-+ #0]*(\d+)")


class TemplateError(ValidationFailed):
    """A template does not compile, fails, or exceeds a cap; the message names the cause."""

    code = "template_error"


def _slack(text: str) -> str:
    # Slack's mrkdwn control characters; data must not open links or mentions.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _markdown(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


_ESCAPERS: dict[str, Callable[[str], str]] = {
    "none": lambda s: s,
    "html": lambda s: html.escape(s, quote=True),
    "slack": _slack,
    "markdown": _markdown,
}


class _Budget:
    """The deadline of the render in progress (one per engine call; renders are synchronous)."""

    deadline = float("inf")

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateError(f"template took longer than {MAX_SECONDS:g}s")


class _CappedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, budget: _Budget, escape: Callable[[str], str]) -> None:
        def finalize(value: Any) -> Any:
            if value is None:
                return ""
            if isinstance(value, str) and not isinstance(value, Markup):
                return escape(value)
            return value

        super().__init__(
            undefined=jinja2.ChainableUndefined,
            finalize=finalize,
            autoescape=False,
            keep_trailing_newline=True,
        )
        self._budget = budget
        self.globals["range"] = self._range
        for name in ("center", "indent", "wordwrap"):
            self.filters[name] = self._capped_filter(self.filters[name])

    def _range(self, *args: int) -> Iterator[int]:
        if len(range(*args)) > _MAX_OPERAND:
            raise TemplateError(f"range() is limited to {_MAX_OPERAND} items")
        for n, i in enumerate(range(*args)):
            if n % 256 == 0:
                self._budget.check()
            yield i

    def _capped_filter(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def capped(*args: Any, **kwargs: Any) -> Any:
            if any(isinstance(a, int) and a > _MAX_OPERAND for a in (*args, *kwargs.values())):
                raise TemplateError(f"a width above {_MAX_OPERAND} is not allowed")
            return fn(*args, **kwargs)

        return capped

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self._budget.check()
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple) and isinstance(n, int)
                if sized and len(seq) * n > _MAX_OPERAND:
                    raise TemplateError("a repeated value would be too large")
        elif operator == "**":
            if isinstance(right, int) and isinstance(left, int) and abs(right) > 64:
                raise TemplateError("an exponent above 64 is not allowed")
        elif operator == "%" and isinstance(left, str):  # noqa: SIM102 - one check per operator
            if any(int(w) > _MAX_OPERAND for w in _FORMAT_WIDTH.findall(left)):
                raise TemplateError(f"a width above {_MAX_OPERAND} is not allowed")
        return super().call_binop(context, operator, left, right)

    def call(self, context: Any, obj: Any, *args: Any, **kwargs: Any) -> Any:
        self._budget.check()
        return super().call(context, obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self._budget.check()
        return super().getattr(obj, attribute)


class TemplateEngine:
    """Compiles and renders user and default templates under the sandbox's caps.

    `helpers` are extra named templates (from `templates:` files) importable by name.
    """

    def __init__(self, helpers: Mapping[str, str] | None = None) -> None:
        self._budget = _Budget()
        loader = jinja2.DictLoader(dict(helpers or {}))
        self._envs = {name: _CappedSandbox(self._budget, fn) for name, fn in _ESCAPERS.items()}
        for env in self._envs.values():
            env.loader = loader
        self._compile = lru_cache(maxsize=512)(self._compile_uncached)

    def check(self, source: str) -> None:
        """Raise TemplateError if the source does not compile (used when a config is saved)."""
        self._compile(source, "none")

    def render(self, source: str, data: Mapping[str, Any], *, escape: Escape = "none") -> str:
        """Render `source` with `data`; values from `data` are escaped for `escape`."""
        template = self._compile(source, escape)
        self._budget.deadline = time.monotonic() + MAX_SECONDS
        out: list[str] = []
        size = 0
        try:
            for chunk in template.generate(**data):
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise TemplateError(f"template output is longer than {MAX_OUTPUT} characters")
                out.append(chunk)
                self._budget.check()
        except TemplateError:
            raise
        except jinja2.TemplateError as exc:
            raise TemplateError(f"template failed: {exc}") from None
        except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as exc:
            raise TemplateError(f"template failed: {type(exc).__name__}: {exc}") from None
        finally:
            self._budget.deadline = float("inf")
        return "".join(out)

    def _compile_uncached(self, source: str, escape: str) -> jinja2.Template:
        if len(source) > MAX_SOURCE:
            raise TemplateError(f"a template may be at most {MAX_SOURCE} characters")
        try:
            return self._envs[escape].from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"template syntax error on line {exc.lineno}: {exc.message}"
            ) from None
