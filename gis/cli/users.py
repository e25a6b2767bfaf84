"""``gis users add|list|revoke``: API keys for the layer service and the analyses."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from gis.cli.options import JsonOpt
from gis.cli.output import console, print_json
from gis.cli.resources import open_engine

users_app = typer.Typer(help="API keys and roles (public, planner, forestry, admin).",
                        no_args_is_help=True)


@users_app.command("add")
def add_cmd(
    name: Annotated[str, typer.Argument(help="Who or which system uses the key.")],
    role: Annotated[str, typer.Option(help="planner | forestry | admin")],
    rate_limit: Annotated[int | None, typer.Option(
        help="Expensive requests per minute for this key (default: GIS_RATE_LIMIT_PER_MINUTE)."
    )] = None,
    json_out: JsonOpt = False,
) -> None:
    """Issue a key. It is printed once; only its hash is stored."""
    from gis.auth import issue_key

    with open_engine() as engine:
        key = issue_key(engine, name, role, rate_limit)
    if json_out:
        print_json({"name": name, "role": role, "key": key})
        return
    console.print(f"key for [bold]{name}[/] ({role}); store it now, it cannot be shown again:")
    print(key)  # plain: no markup or wrapping may alter the secret


@users_app.command("list")
def list_cmd(json_out: JsonOpt = False,
             all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False
             ) -> None:
    """Issued keys (names, roles, key ids; never the secrets)."""
    from gis.auth import list_keys

    with open_engine() as engine:
        keys = [k for k in list_keys(engine) if all_keys or k.revoked_at is None]
    if json_out:
        print_json([{"name": k.name, "role": k.role, "key_id": k.key_id,
                     "created_at": k.created_at.isoformat(),
                     "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                     "rate_limit_per_minute": k.rate_limit_per_minute} for k in keys])
        return
    table = Table(title="API keys")
    for column in ("name", "role", "key id", "created", "revoked", "limit/min"):
        table.add_column(column)
    for k in keys:
        table.add_row(k.name, k.role, k.key_id, f"{k.created_at:%Y-%m-%d %H:%M}",
                      f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "-",
                      str(k.rate_limit_per_minute or "default"))
    console.print(table)


@users_app.command("revoke")
def revoke_cmd(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke the active key of NAME (running servers stop accepting it within seconds)."""
    from gis.auth import revoke_key

    with open_engine() as engine:
        revoke_key(engine, name)
    console.print(f"revoked the key of {name}")
