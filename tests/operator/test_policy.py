"""Every operator action refuses an account without the operator flag before it touches anything."""
from __future__ import annotations

import inspect
from typing import Any

import pytest

from app.domain import Forbidden
from app.operator import services
from app.operator.inputs import DeleteInput, PlanInput, SuspendInput
from app.platform.models import User


class Untouchable:
    """Stands in for the session: any use of it fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the service touched the session ({name}) before checking the operator")


ACTIONS = {
    "suspend_family": lambda db, who: services.suspend_family(db, who, "x", SuspendInput(), now=None),  # type: ignore[arg-type]
    "reactivate_family": lambda db, who: services.reactivate_family(db, who, "x", now=None),  # type: ignore[arg-type]
    "change_plan": lambda db, who: services.change_plan(db, who, "x", PlanInput(plan="premium"), now=None),  # type: ignore[arg-type]
    "delete_family_for_operator": lambda db, who: services.delete_family_for_operator(
        db, who, "x", DeleteInput(confirm="x"), now=None),  # type: ignore[arg-type]
    "restore_family": lambda db, who: services.restore_family(db, who, "x", now=None),  # type: ignore[arg-type]
    "record_operator_export": lambda db, who: services.record_operator_export(db, who, None, 0),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("who", ["not an operator", "nobody"])
def test_operator_actions_refuse_anyone_else(action: str, who: str) -> None:
    actor = User(email="parent@example.com", display_name="Parent", is_operator=False) if who != "nobody" else None

    with pytest.raises(Forbidden):
        ACTIONS[action](Untouchable(), actor)


def test_every_operator_action_is_in_the_list() -> None:
    """A new service taking an operator joins the matrix above."""
    takes_operator = {name for name, value in vars(services).items()
                      if inspect.isfunction(value) and value.__module__ == services.__name__
                      and not name.startswith("_")
                      and list(inspect.signature(value).parameters)[1:2] == ["operator"]}
    assert takes_operator == set(ACTIONS)
