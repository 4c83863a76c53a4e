"""Help text that reads like a manual page: `INPUTS...` rather than `{inputs}...`, no `<bool>` after a flag.

typer 0.29 writes a required argument as `{inputs}...` in the usage line and puts a type column
`<bool>` after flags such as `--force`, which reads as if they took a value. Both command-line apps
(`scitune-curate`, `scitune-train`) are `App`s, whose commands use `Command` below.
"""

from __future__ import annotations

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup


def _plain_metavars(params) -> None:
    for param in params:
        if param.metavar is not None:
            continue
        if getattr(param, "is_flag", False):
            param.metavar = ""  # a flag takes no value: show no type after it
        elif isinstance(param, TyperArgument):
            param.metavar = param.name.upper() + ("..." if param.nargs != 1 else "")


class Command(TyperCommand):
    def get_params(self, ctx):
        params = super().get_params(ctx)  # with --help and the completion options added by typer
        _plain_metavars(params)
        return params

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []  # "[OPTIONS]"
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                pieces.append(param.metavar if param.required else f"[{param.metavar}]")
        return pieces


class Group(TyperGroup):
    def get_params(self, ctx):
        params = super().get_params(ctx)  # with --help and the completion options added by typer
        _plain_metavars(params)
        return params


class App(typer.Typer):
    """A typer app (of class `Group`) whose commands default to `Command`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("cls", Group)
        super().__init__(*args, **kwargs)

    def command(self, *args, cls=None, **kwargs):
        return super().command(*args, cls=cls or Command, **kwargs)
