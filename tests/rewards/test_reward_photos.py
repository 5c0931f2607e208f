"""A reward can show a photo instead of its icon: checked and re-encoded like proof photos, family-only."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from app.rewards.models import Reward
from tests.rewards.conftest import Household


@pytest.fixture(autouse=True)
def uploads(app, tmp_path):  # noqa: ANN001, ANN201
    previous = app.config["UPLOADS_DIR"]
    app.config["UPLOADS_DIR"] = str(tmp_path)
    yield tmp_path
    app.config["UPLOADS_DIR"] = previous


def _png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 60, 90)).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


FORM = {"name": "Movie night", "cost": "30", "icon": "🎬", "category": "treat", "availability": "always",
        "requires_approval": "1"}


def _reward_named(in_family, household: Household, name: str) -> Reward:  # noqa: ANN001
    from sqlalchemy import select

    with in_family(household.family) as ctx:
        return ctx.session.scalar(select(Reward).where(Reward.name == name))


def test_a_parent_adds_a_photo_and_the_store_shows_it(browser, post, household, in_family) -> None:  # noqa: ANN001
    parent = browser("parent")
    response = post(parent, "/rewards/new", {**FORM, "photo": (_png(), "movie.png")})
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    reward = _reward_named(in_family, household, "Movie night")
    assert reward.photo_name and reward.photo_name.endswith(".jpg")
    kid = browser("kid")
    store = kid.get("/rewards").get_data(as_text=True)
    assert f"/rewards/{reward.id}/photo" in store
    with kid.get(f"/rewards/{reward.id}/photo") as photo:
        assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
        assert Image.open(io.BytesIO(photo.data)).size[0] <= 320
    # Another family's browser cannot fetch it.
    with browser("other_parent").get(f"/rewards/{reward.id}/photo") as stranger:
        assert stranger.status_code == 302


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_saved(browser, post, household, in_family,  # noqa: ANN001
                                                                    uploads) -> None:
    parent = browser("parent")
    script = io.BytesIO(b"#!/bin/sh\necho pwned\n")
    response = post(parent, "/rewards/new", {**FORM, "name": "Sneaky", "photo": (script, "sneaky.jpg")})
    assert 400 <= response.status_code < 500
    assert _reward_named(in_family, household, "Sneaky") is None
    assert not any(p.is_file() for p in uploads.rglob("*"))


def test_removing_the_photo_goes_back_to_the_icon(browser, post, household, in_family) -> None:  # noqa: ANN001
    parent = browser("parent")
    post(parent, "/rewards/new", {**FORM, "photo": (_png(), "movie.png")})
    reward = _reward_named(in_family, household, "Movie night")
    response = post(parent, f"/rewards/{reward.id}/edit", {**FORM, "remove_photo": "1"})
    assert response.status_code == 303
    assert _reward_named(in_family, household, "Movie night").photo_name is None
