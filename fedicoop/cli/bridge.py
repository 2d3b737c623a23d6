"""The single bridge from typer's synchronous commands to the async services.

Every command that touches the database calls :func:`run_with_database`, which loads the settings, opens
the node's database, runs the coroutine and turns the errors we raise on purpose into a clear message
and a non-zero exit code.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import typer

from federation.errors import FederationError
from fedicoop.db import open_database
from fedicoop.errors import FedicoopError, SettingsError
from fedicoop.network import Network, open_network
from fedicoop.node import Node, build_node
from fedicoop.services.actors import ensure_application_actor
from fedicoop.settings import Settings, load_settings
from fedicoop.web.api import describe_validation
from fedicoop.web.errors import classify

T = TypeVar("T")

EXIT_INVALID = 2
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4
EXIT_SETTINGS = 5
EXIT_FAILURE = 1


def fail(message: str, code: int = EXIT_INVALID) -> typer.Exit:
    """Print ``message`` on stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def settings_or_exit(**overrides: Any) -> Settings:
    """Load the settings, exiting with a message naming the variable when they are invalid."""
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        raise fail(str(exc), EXIT_SETTINGS) from None


def validate(model: type[pydantic.BaseModel], data: dict[str, Any]) -> Any:
    """Validate CLI input with the API's model; exit 2 naming each bad field."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        detail, _ = describe_validation(list(exc.errors()))
        raise fail(f"invalid input: {detail}") from None


def read_json_argument(source: str) -> dict[str, Any]:
    """Read a JSON object from a file path or ``-`` (stdin); exit 2 when it is not one."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot read {source}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise fail(f"{source}: not UTF-8 text") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"{source}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(value, dict):
        raise fail(f"{source}: expected a JSON object, got {type(value).__name__}")
    return value


def run_with_database(action: Callable[[Node], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run ``action(node)`` with the node's database open; map our errors to exit codes."""
    settings = settings or settings_or_exit()
    node = build_node(settings)

    async def main() -> T:
        async with open_database(settings):
            await ensure_application_actor(settings.display_name, node.clock())
            return await action(node)

    try:
        return asyncio.run(main())
    except (FedicoopError, FederationError) as exc:
        status, _ = classify(exc)
        code = {404: EXIT_NOT_FOUND, 410: EXIT_NOT_FOUND, 409: EXIT_CONFLICT, 500: EXIT_FAILURE}.get(
            status, EXIT_INVALID
        )
        raise fail(str(exc), code) from None


def run_with_network(action: Callable[[Network], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run ``action(network)`` with the database and the node's federation runtime open."""

    async def with_network(node: Node) -> T:
        async with open_network(node) as network:
            return await action(network)

    return run_with_database(with_network, settings)


def print_json(value: Any) -> None:
    """Print a model, a list of models or plain data as indented JSON."""
    if isinstance(value, pydantic.BaseModel):
        value = value.model_dump(mode="json")
    elif isinstance(value, list):
        value = [
            item.model_dump(mode="json") if isinstance(item, pydantic.BaseModel) else item for item in value
        ]
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))
