"""The page templates compiled once per test process, not once per test's app.

Each test's app has a Jinja environment of its own, and each environment compiled every template
its test rendered (parsing and generating Python for a page and its base: 30 ms of CPU a page,
each time; a typical page test renders two to five pages). The apps of a test process share a
bytecode cache here instead: the compiled module code of each template, reused by every later
environment as Jinja's own file or memcached bytecode caches would, while each environment still
makes its own Template with its own globals and filters. A template's entry is its name, file
and source (Jinja's key and checksum: an edited template compiles again) and the environment's
settings that shape the compiled code, so an app configured otherwise never gets another's code.
"""

from __future__ import annotations

from types import CodeType

from jinja2 import BytecodeCache, Environment
from jinja2.bccache import Bucket


def compile_settings(environment: Environment) -> tuple:
    """What, besides the source, decides the code Jinja compiles a template to."""
    return (
        environment.block_start_string,
        environment.block_end_string,
        environment.variable_start_string,
        environment.variable_end_string,
        environment.comment_start_string,
        environment.comment_end_string,
        environment.line_statement_prefix,
        environment.line_comment_prefix,
        environment.trim_blocks,
        environment.lstrip_blocks,
        environment.newline_sequence,
        environment.keep_trailing_newline,
        environment.optimized,
        environment.is_async,
        tuple(sorted(environment.extensions)),
        getattr(environment, "newstyle_gettext", None),  # the i18n extension's call form
        # Flask's autoescape is a method of its app (same code for every app); anything else is
        # told apart by its code.
        getattr(environment.autoescape, "__func__", environment.autoescape),
    )


class SharedTemplateCode(BytecodeCache):
    """Compiled template code kept in memory, shared by the environments of one process."""

    def __init__(self) -> None:
        self.code: dict[tuple, CodeType] = {}
        self.compiled = 0  # how many templates were compiled, not reused

    def _key(self, bucket: Bucket) -> tuple:
        return (bucket.key, bucket.checksum, compile_settings(bucket.environment))

    def load_bytecode(self, bucket: Bucket) -> None:
        bucket.code = self.code.get(self._key(bucket))

    def dump_bytecode(self, bucket: Bucket) -> None:
        assert bucket.code is not None
        self.code[self._key(bucket)] = bucket.code
        self.compiled += 1
