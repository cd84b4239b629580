"""Screens and widgets handle Textual's events through the public handlers (on_screen_resume, on_mount, ...), never
by overriding one of Textual's own private handlers (`_on_screen_resume` and the like): those change between Textual
releases without notice, and an override that forgets to call up silently breaks the screen. (Textual runs a
class's public handler before its bases' private one, on the same event: a handler may still adjust the event.)"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import textual

import agent_console.screens
import agent_console.widgets


def _textual_private(cls: type, name: str) -> bool:
    for base in cls.__mro__[1:]:
        module = getattr(base, "__module__", "") or ""
        if module.split(".")[0] == "textual" and name in vars(base):
            return True
    return False


def test_no_screen_or_widget_overrides_a_private_textual_method() -> None:
    found = []
    for package in (agent_console.screens, agent_console.widgets):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ != module.__name__:
                    continue
                for name in vars(cls):
                    if (name.startswith("_on_") and inspect.isfunction(vars(cls)[name])
                            and _textual_private(cls, name)):
                        found.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
    assert textual.__version__
    assert found == []
