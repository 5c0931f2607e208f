"""Provision a family: validate its slug, place its data, create its database if dedicated, register it.

This spans two databases, so unlike area services it owns its transactions and compensates on failure:
a family that fails to provision leaves no platform row and no database behind.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.db.clusters import DEFAULT_CLUSTER, Cluster
from app.db.engines import EngineRegistry
from app.db.session import open_session
from app.domain import Sayable
from app.languages import phrase
from app.members.models import FamilySetting
from app.platform.models import Family, FamilyPlacement, Plan, Subscription
from app.tenancy.slugs import propose_alternatives, slug_problem
from app.tenancy.databases import DatabaseOwner, create_database, database_exists, drop_database, \
    ensure_family_database, upgrade_family_database
from app.tenancy.registry import family_database_url

DEFAULT_SETTINGS: dict[str, object] = {
    "week_start": "monday",
    "auto_approve": False,
    "currency": "USD",
    "points_per_currency_unit": 100,
    "digest_hour": 18,
    "reminder_lead_minutes": 30,
}


_pooled_at_head: set[str] = set()  # pooled databases this process has already brought to head


class ProvisioningError(ValueError):
    """The family cannot be provisioned as asked; the message says why and nothing was created.

    `str(error)` is English (the CLI, the operator and the JSON API); `said` is the same refusal for a page to say in
    its language (the sign-up form), when the message was given as a phrase.
    """

    def __init__(self, message: str | Sayable, *, alternatives: list[str] | None = None) -> None:
        super().__init__(message if isinstance(message, str) else message.render(None))
        self.said: str | Sayable = message
        self.alternatives = alternatives or []


@dataclass(frozen=True)
class Placement:
    """Where family databases live, which placement a new family gets, and who may create them, from config."""

    pooled_url: str
    dedicated_template: str | None
    default_kind: str = "pooled"
    owner: DatabaseOwner | None = None  # CREATE DATABASE and migrations run as this role, never as the app's
    clusters: Mapping[str, Cluster] = field(default_factory=dict)  # empty: one cluster, the two URLs above

    def all_clusters(self) -> dict[str, Cluster]:
        """The configured clusters by name (`default` is always there)."""
        return dict(self.clusters) or {DEFAULT_CLUSTER: Cluster(DEFAULT_CLUSTER, self.pooled_url,
                                                                 self.dedicated_template)}


def choose_cluster(session: Session, placement_config: Placement, requested: str | None) -> Cluster:
    """The cluster named by the operator, or the one holding the fewest live families (config order breaks ties)."""
    clusters = placement_config.all_clusters()
    if requested is not None:
        if requested not in clusters:
            raise ProvisioningError(f"There is no database cluster named '{requested}' "
                                    f"(configured: {', '.join(clusters)}).")
        return clusters[requested]
    if len(clusters) == 1:
        return next(iter(clusters.values()))
    live = select(Family.cluster, func.count()).where(Family.deleted_at.is_(None)).group_by(Family.cluster)
    counts: dict[str, int] = dict(session.execute(live).all())
    return min(clusters.values(), key=lambda cluster: counts.get(cluster.name, 0))


def taken_slugs(session: Session, candidates: list[str]) -> set[str]:
    """Which of `candidates` already name a family (deleted families keep their slug)."""
    return set(session.scalars(select(Family.slug).where(Family.slug.in_(candidates))))


def check_slug_available(session: Session, slug: str, *, city: str | None = None) -> None:
    """Raise ProvisioningError (with free alternatives when taken) unless `slug` can be used."""
    problem = slug_problem(slug)
    if problem:
        raise ProvisioningError(phrase("The address '%(slug)s' %(problem)s.", slug=slug, problem=problem))
    if taken_slugs(session, [slug]):
        alternatives = propose_alternatives(slug, lambda c: taken_slugs(session, list(c)), city=city)
        raise ProvisioningError(phrase("The address '%(slug)s' is taken.", slug=slug), alternatives=alternatives)


def provision_family(platform_session: Session, engines: EngineRegistry, placement_config: Placement, *,
                     slug: str, name: str, placement: str | None = None, timezone: str = "UTC",
                     plan: str = "free", status: str = "active", cluster: str | None = None,
                     populate: Callable[[Session, Family], None] | None = None) -> Family:
    """Create the family's data home and its platform row; commits both or neither.

    `populate(family_session, family)` may add the family's first rows (and platform rows to `platform_session`)
    inside the same all-or-nothing step. `placement` defaults to the configured one (`placement_config.default_kind`);
    `cluster` to the least-loaded configured cluster.
    """
    placement = placement or placement_config.default_kind
    slug = slug.strip().lower()
    name = name.strip()
    check_slug_available(platform_session, slug)
    if not 1 <= len(name) <= 120:
        raise ProvisioningError(phrase("The family name must be 1-120 characters."))
    if placement not in tuple(FamilyPlacement):
        raise ProvisioningError(f"Placement must be one of {', '.join(FamilyPlacement)}.")
    if plan not in tuple(Plan):
        raise ProvisioningError(f"Plan must be one of {', '.join(Plan)}.")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProvisioningError(phrase("Unknown timezone '%(timezone)s'.", timezone=timezone)) from None

    home = choose_cluster(platform_session, placement_config, cluster)
    family = Family(slug=slug, name=name, placement=placement, timezone=timezone, plan=plan, status=status,
                    cluster=home.name)
    if placement == "dedicated":
        if not home.dedicated_template:
            raise ProvisioningError("Dedicated placement is not configured (DEDICATED_DATABASE_URL_TEMPLATE).")
        family.database_key = slug.replace("-", "_")
    url = family_database_url(family, pooled_url=placement_config.pooled_url,
                              dedicated_template=placement_config.dedicated_template,
                              clusters=placement_config.all_clusters())

    created_database = False
    try:
        try:
            if placement == "dedicated":
                if database_exists(url):
                    raise ProvisioningError(f"A database for '{slug}' already exists; refusing to reuse it.")
                create_database(url, placement_config.owner)
                created_database = True
                upgrade_family_database(url, owner=placement_config.owner)
            elif url not in _pooled_at_head:
                # Deploys migrate the pooled database (`flask families upgrade --all`); checking it once per process
                # keeps sign-ups from re-reading every migration script.
                ensure_family_database(url, placement_config.owner)
                _pooled_at_head.add(url)
        except OperationalError as error:
            reason = str(error.orig or error).strip().splitlines()[0]
            raise ProvisioningError(f"Database cluster '{home.name}' is unreachable: {reason}") from None
        platform_session.add(family)
        platform_session.flush()
        platform_session.add(Subscription(family_id=family.id, plan=plan, status="active"))
        _seed_family(engines, platform_session, url, family, populate)
        platform_session.commit()
    except BaseException:
        platform_session.rollback()
        if created_database:
            engines.discard(url)
            drop_database(url, placement_config.owner)
        elif placement == "pooled" and family.id is not None:
            _delete_family_rows(engines, platform_session, url, family)
        raise
    return family


def _seed_family(engines: EngineRegistry, platform_session: Session, url: str, family: Family,
                 populate: Callable[[Session, Family], None] | None) -> None:
    session = open_session(platform_session.get_bind(Family), engines.get(url), family.id)
    try:
        for key, value in DEFAULT_SETTINGS.items():
            session.add(FamilySetting(key=key, value=value))
        if populate is not None:
            populate(session, family)
        session.flush()
        platform_session.flush()  # platform rows added by populate fail here, before the family data commits
        session.commit()
    finally:
        session.close()


def _delete_family_rows(engines: EngineRegistry, platform_session: Session, url: str, family: Family) -> None:
    from app.db.bases import FamilyBase
    from app.db.rls import APPEND_ONLY_TABLES

    session = open_session(platform_session.get_bind(Family), engines.get(url), family.id)
    try:
        for table in reversed(FamilyBase.metadata.sorted_tables):
            if table.name in APPEND_ONLY_TABLES:
                continue  # the app role may not delete history (and the database refuses it to anyone)
            session.execute(table.delete().where(table.c.family_id == family.id))
        session.commit()
    finally:
        session.close()
