"""The rewards store's rules: the reward catalogue, requests that hold points, parents' decisions, savings goals."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_date, get_day_names
from babel.lists import format_list
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, joinedload

from app.family_rules import FamilyRules
from app.domain import Conflict, Forbidden, NotFound, ValidationFailed
from app.events import RewardDecided, RewardRequested, record
from app.family_time import WEEKDAY_NAMES, FamilyClock
from app.languages import DEFAULT_LANGUAGE, Phrase, phrase, translatable
from app.members.models import Member
from app.points.descriptions import REDEEMED, REFUNDED, ledger_text
from app.points.services import lock_member, post_entry
from app.rewards.inputs import RedeemInput, RejectInput, RewardInput, SavingsGoalInput
from app.policy import require_parent, require_self_or_parent
from app.rewards.models import (
    MAX_VALUE_IN_CENTS,
    Availability,
    LegacyAvailability,
    Redemption,
    RedemptionStatus,
    Reward,
    SavingsGoal,
)

MAX_COST = 10_000
MAX_STOCK = 100_000
MAX_LIMIT = 1_000
DEFAULT_ICON = "🎁"
DEFAULT_CATEGORY = "treat"
# Requests that count against stock-like limits: a rejected request gave its points (and its slot) back.
COUNTED_STATUSES = ("pending", "approved", "fulfilled")
# Where notifications send people (services know no Flask, so the store's path is spelled out once here).
STORE_LINK = "/rewards"


# --- validating a reward ----------------------------------------------------------------------------------------

def _whole(value: int | None, key: str, *, low: int, high: int, label: Phrase) -> int | None:
    """A whole number in [low, high] (None means "no value"), with the message the contract fixes."""
    if value is not None and not low <= value <= high:
        raise ValidationFailed(phrase("%(label)s must be between %(low)s and %(high)s", label=label, low=f"{low:,}",
                                      high=f"{high:,}"), fields={key: "range"})
    return value


def _apply_reward_fields(reward: Reward, data: RewardInput, *, creating: bool) -> None:
    """Copy the fields given in `data` onto the reward, each checked; then check the whole is consistent."""
    given = data.model_fields_set
    if creating or "name" in given:
        if not data.name:
            raise ValidationFailed("Please give the reward a name", fields={"name": "required"})
        reward.name = data.name
    if "description" in given:
        reward.description = data.description
    if "icon" in given:
        reward.icon = data.icon or DEFAULT_ICON
    if "category" in given:
        reward.category = data.category or DEFAULT_CATEGORY
    if creating or "cost" in given:
        if data.cost is None:
            raise ValidationFailed("Please give the reward a cost in points", fields={"cost": "required"})
        if not 1 <= data.cost <= MAX_COST:
            raise ValidationFailed(phrase("Cost must be between 1 and %(most)s points", most=f"{MAX_COST:,}"),
                                   fields={"cost": "range"})
        reward.cost = data.cost
    if "stock" in given:
        stock = _whole(data.stock, "stock", low=-MAX_STOCK, high=MAX_STOCK, label=phrase("Stock"))
        if stock is not None and stock < 0:
            raise ValidationFailed("Stock cannot be negative (leave it empty for unlimited)", fields={"stock": "range"})
        reward.stock = stock
    for key, label in (("max_per_week", phrase("The weekly limit")), ("max_per_month", phrase("The monthly limit"))):
        if key in given:
            limit = _whole(getattr(data, key), key, low=-MAX_LIMIT, high=MAX_LIMIT, label=label)
            if limit is not None and limit < 1:
                raise ValidationFailed(phrase("%(label)s must be at least 1 (leave it empty for no limit)",
                                              label=label), fields={key: "range"})
            setattr(reward, key, limit)
    for key in ("requires_approval", "active"):
        if getattr(data, key) is not None:
            setattr(reward, key, getattr(data, key))
    if "value_in_cents" in given:
        reward.value_in_cents = _whole(data.value_in_cents, "value_in_cents", low=0, high=MAX_VALUE_IN_CENTS,
                                       label=phrase("value_in_cents"))
    if data.availability is not None:
        _set_availability_word(reward, data.availability)
    if "available_from" in given:
        reward.available_from = data.available_from
    if "available_until" in given:
        reward.available_until = data.available_until
    if "available_weekdays" in given:
        reward.available_weekdays = data.available_weekdays
    if reward.legacy_availability is not None and given & {"availability", "available_from", "available_until"}:
        # The previous service's words map onto a window: its dates when it has some, otherwise always open
        # (as the previous service treated them); stock stays the stock.
        dated = reward.available_from is not None or reward.available_until is not None
        reward.availability = Availability.DATE_RANGE if dated else Availability.ALWAYS
    _settle_availability(reward)


AVAILABILITY_WORDS = (*Availability, *LegacyAvailability)


def _set_availability_word(reward: Reward, word: str) -> None:
    """This service's kind replaces any old word; an old word ("limited", "seasonal") is kept to read back."""
    if word in tuple(LegacyAvailability):
        reward.legacy_availability = LegacyAvailability(word)
    elif word in tuple(Availability):
        reward.availability = Availability(word)
        reward.legacy_availability = None
    else:
        raise ValidationFailed(phrase("availability must be one of %(choices)s", choices=", ".join(AVAILABILITY_WORDS)),
                               fields={"availability": "invalid"})


def availability_word(reward: Reward) -> str:
    """What the reward's availability was called when set: the old word if a client used one, else the kind."""
    return str(reward.legacy_availability or reward.availability)


def _settle_availability(reward: Reward) -> None:
    """Keep only the window the availability kind uses, and check it makes sense."""
    if reward.availability == "date_range":
        reward.available_weekdays = None
        if reward.available_from is None and reward.available_until is None:
            raise ValidationFailed("Give a start date, an end date or both", fields={"available_from": "required"})
        if (reward.available_from and reward.available_until
                and reward.available_from > reward.available_until):
            raise ValidationFailed("The start date must be on or before the end date",
                                   fields={"available_until": "order"})
    elif reward.availability == "weekdays":
        reward.available_from = reward.available_until = None
        if not reward.available_weekdays:
            raise ValidationFailed("Pick at least one day of the week", fields={"available_weekdays": "required"})
    else:
        reward.available_from = reward.available_until = None
        reward.available_weekdays = None


# --- the catalogue ----------------------------------------------------------------------------------------------

def list_rewards(session: Session, *, include_archived: bool = False) -> list[Reward]:
    """The family's rewards by name (archived ones only when asked for)."""
    query = select(Reward).order_by(Reward.name, Reward.id)
    if not include_archived:
        query = query.where(Reward.active.is_(True))
    return list(session.scalars(query))


def get_reward_or_404(session: Session, reward_id: uuid.UUID | str, *, include_archived: bool = False) -> Reward:
    """A reward of this family; another family's id (or an archived reward, unless asked for) is not found."""
    key = _uuid_or_404(reward_id, translatable("Reward not found"))
    reward = session.get(Reward, key)
    if reward is None or (not reward.active and not include_archived):
        raise NotFound("Reward not found")
    return reward


def create_reward(session: Session, *, actor: Member, data: RewardInput) -> Reward:
    """A parent adds a reward; it is active and needs approval unless told otherwise."""
    require_parent(actor)
    reward = Reward(icon=DEFAULT_ICON, category=DEFAULT_CATEGORY, requires_approval=True, active=True,
                    availability="always")
    _apply_reward_fields(reward, data, creating=True)
    session.add(reward)
    session.flush()
    return reward


def update_reward(session: Session, reward: Reward, *, actor: Member, data: RewardInput) -> Reward:
    """A parent changes the keys given (stock, limits and the window included); `active: true` restores it."""
    require_parent(actor)
    _apply_reward_fields(reward, data, creating=False)
    session.flush()
    return reward


def archive_reward(session: Session, reward: Reward, *, actor: Member) -> Reward:
    """Take a reward out of the store; its history stays and open requests can still be decided.

    Kids saving for it lose the goal, since it can no longer be requested.
    """
    require_parent(actor)
    reward.active = False
    for goal in session.scalars(select(SavingsGoal).where(SavingsGoal.reward_id == reward.id)):
        session.delete(goal)
    session.flush()
    return reward


# --- when a reward can be had -----------------------------------------------------------------------------------

def is_available_on(reward: Reward, day: date) -> bool:
    """Whether the reward's window is open on this family-local day."""
    if reward.availability == "date_range":
        return ((reward.available_from is None or reward.available_from <= day)
                and (reward.available_until is None or day <= reward.available_until))
    if reward.availability == "weekdays":
        return day.weekday() in (reward.available_weekdays or [])
    return True


def describe_availability(reward: Reward, language: str | None = None) -> str | None:
    """The window in words ("On Saturdays and Sundays", "From 1 Jun 2026 to 31 Aug 2026") in `language` (English
    without one), None when always open."""
    said = _availability(reward, language)
    return said.render(language) if said is not None else None


def _availability(reward: Reward, language: str | None) -> Phrase | None:
    locale = language or DEFAULT_LANGUAGE
    if reward.availability == "weekdays":
        days = reward.available_weekdays or []
        if locale == DEFAULT_LANGUAGE:  # English says the days in the plural ("On Saturdays and Sundays")
            names = [WEEKDAY_NAMES[d].title() + "s" for d in days]
            listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)
        else:
            wide = get_day_names("wide", locale=locale)
            listed = format_list([str(wide[d]) for d in days], locale=locale) if days else ""
        return phrase("On %(days)s", days=listed)
    if reward.availability == "date_range":
        start, end = reward.available_from, reward.available_until
        if start and end:
            return phrase("From %(start)s to %(end)s", start=_day(start, locale), end=_day(end, locale))
        if start:
            return phrase("From %(start)s", start=_day(start, locale))
        if end:
            return phrase("Until %(end)s", end=_day(end, locale))
    return None


def _day(day: date, locale: str) -> str:
    return str(format_date(day, "d MMM y", locale=locale))


def _month_bounds(clock: FamilyClock, day: date) -> tuple[datetime, datetime]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return clock.day_bounds(first)[0], clock.day_bounds(following)[0]


def _counts(session: Session, member_id: uuid.UUID, clock: FamilyClock, now: datetime,
            reward_id: uuid.UUID | None = None) -> dict[uuid.UUID, tuple[int, int]]:
    """Per reward: the member's counted requests in this family week and this family-local month."""
    week_start, week_end = clock.week_bounds(now)
    month_start, month_end = _month_bounds(clock, clock.today(now))
    in_week = (Redemption.requested_at >= week_start) & (Redemption.requested_at < week_end)
    in_month = (Redemption.requested_at >= month_start) & (Redemption.requested_at < month_end)
    query = (select(Redemption.reward_id, func.sum(case((in_week, 1), else_=0)),
                    func.sum(case((in_month, 1), else_=0)))
             .where(Redemption.member_id == member_id, Redemption.status.in_(COUNTED_STATUSES),
                    Redemption.requested_at >= min(week_start, month_start))
             .group_by(Redemption.reward_id))
    if reward_id is not None:
        query = query.where(Redemption.reward_id == reward_id)
    return {rid: (int(week or 0), int(month or 0)) for rid, week, month in session.execute(query)}


def _limit_reached(period: str, reward: Reward, count: int) -> Phrase:
    """A weekly or monthly limit, one sentence per case so each language words it whole."""
    if period == "week":
        if count == 1:
            return phrase("Weekly limit reached: %(reward)s can be requested once a week", reward=reward.name)
        if count == 2:
            return phrase("Weekly limit reached: %(reward)s can be requested twice a week", reward=reward.name)
        return phrase("Weekly limit reached: %(reward)s can be requested %(count)d times a week", reward=reward.name,
                      count=count)
    if count == 1:
        return phrase("Monthly limit reached: %(reward)s can be requested once a month", reward=reward.name)
    if count == 2:
        return phrase("Monthly limit reached: %(reward)s can be requested twice a month", reward=reward.name)
    return phrase("Monthly limit reached: %(reward)s can be requested %(count)d times a month", reward=reward.name,
                  count=count)


@dataclass(frozen=True)
class ClosedToday:
    """Why a reward cannot be requested today, with its window said in the reader's language."""

    reward: Reward

    def render(self, language: str | None) -> str:
        """`Bike is not available today (on Saturdays and Sundays)` in `language`."""
        window = describe_availability(self.reward, language) or ""
        return phrase("%(reward)s is not available today (%(window)s)", reward=self.reward.name,
                      window=window[:1].lower() + window[1:]).render(language)


# --- requesting and deciding ------------------------------------------------------------------------------------

def _uuid_or_404(value: uuid.UUID | str, message: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise NotFound(message) from None


def lock_reward(session: Session, reward_id: uuid.UUID | str) -> Reward:
    """The reward row, locked: requests for one reward take turns, so stock and limits hold under concurrency."""
    key = _uuid_or_404(reward_id, translatable("Reward not found"))
    reward = session.scalar(select(Reward).where(Reward.id == key).with_for_update()
                            .execution_options(populate_existing=True))
    if reward is None:
        raise NotFound("Reward not found")
    return reward


def lock_redemption(session: Session, redemption_id: uuid.UUID | str) -> Redemption:
    """The request row, locked: two parents deciding at once take turns (the second sees the first's answer)."""
    key = _uuid_or_404(redemption_id, translatable("Redemption not found"))
    redemption = session.scalar(select(Redemption).where(Redemption.id == key).with_for_update(of=Redemption)
                                .options(joinedload(Redemption.reward)).execution_options(populate_existing=True))
    if redemption is None:
        raise NotFound("Redemption not found")
    return redemption


def request_reward(session: Session, kid: Member, reward_id: uuid.UUID | str, rules: FamilyRules, now: datetime,
                   *, data: RedeemInput | None = None) -> Redemption:
    """A member spends points on a reward: the points are held at once; a parent approves unless none is needed.

    Order matters for concurrency: the reward row is locked first (stock and limits are then read by one request
    at a time), then the ledger locks the member (so the balance never goes below zero).
    """
    if not kid.is_active:
        raise Forbidden("Inactive members cannot request rewards")
    reward = lock_reward(session, reward_id)
    if not reward.active:
        raise ValidationFailed("Reward is not active")
    today = rules.clock.today(now)
    if not is_available_on(reward, today):
        raise ValidationFailed(ClosedToday(reward))
    if reward.stock is not None and reward.stock <= 0:
        raise ValidationFailed("Reward is out of stock")
    week_count, month_count = _counts(session, kid.id, rules.clock, now, reward.id).get(reward.id, (0, 0))
    if reward.max_per_week is not None and week_count >= reward.max_per_week:
        raise Conflict(_limit_reached("week", reward, reward.max_per_week))
    if reward.max_per_month is not None and month_count >= reward.max_per_month:
        raise Conflict(_limit_reached("month", reward, reward.max_per_month))
    notes = data.notes if data is not None else None
    redemption_id = uuid.uuid4()
    try:
        post_entry(session, kid.id, amount=-reward.cost, kind="redemption",
                   description=ledger_text(REDEEMED, name=reward.name), clock=rules.clock, now=now, actor_id=kid.id,
                   reference_id=redemption_id)
    except ValidationFailed as error:
        if "points_short" in error.extra:
            raise ValidationFailed("Insufficient points", fields=None, **error.extra) from None
        raise
    if reward.stock is not None:
        reward.stock -= 1
    approved = not reward.requires_approval
    redemption = Redemption(id=redemption_id, reward_id=reward.id, reward=reward, member_id=kid.id,
                            points_spent=reward.cost,
                            status="approved" if approved else "pending", requested_at=now,
                            decided_at=now if approved else None, notes=notes)
    session.add(redemption)
    session.flush()
    record(session, RewardRequested(redemption_id=redemption_id, reward_id=reward.id, reward=reward.name,
                                    member_id=kid.id, cost=reward.cost, status=redemption.status, notes=notes,
                                    at=now))
    return redemption


def _decided(session: Session, redemption: Redemption, reward_name: str, now: datetime) -> None:
    record(session, RewardDecided(redemption_id=redemption.id, reward_id=redemption.reward_id, reward=reward_name,
                                  member_id=redemption.member_id, status=redemption.status,
                                  points=redemption.points_spent, at=now, reason=redemption.rejection_reason))


# Why a request decided meanwhile cannot be decided again, each status said whole.
ALREADY_DECIDED = {RedemptionStatus.PENDING: phrase("Redemption is already pending"),
                   RedemptionStatus.APPROVED: phrase("Redemption is already approved"),
                   RedemptionStatus.REJECTED: phrase("Redemption is already rejected"),
                   RedemptionStatus.FULFILLED: phrase("Redemption is already fulfilled")}


def approve_redemption(session: Session, actor: Member, redemption_id: uuid.UUID | str,
                       now: datetime) -> Redemption:
    """A parent says yes to a waiting request (once); it is then ready to hand over."""
    require_parent(actor)
    redemption = lock_redemption(session, redemption_id)
    if redemption.status != "pending":
        raise ValidationFailed(ALREADY_DECIDED[RedemptionStatus(redemption.status)])
    redemption.status = RedemptionStatus.APPROVED
    redemption.decided_at = now
    redemption.decided_by = actor.id
    session.flush()
    _decided(session, redemption, redemption.reward.name, now)
    return redemption


def reject_redemption(session: Session, actor: Member, redemption_id: uuid.UUID | str, data: RejectInput,
                      rules: FamilyRules, now: datetime) -> Redemption:
    """A parent says no, with a reason the kid sees: the held points come back (a refund row) and so does the stock."""
    require_parent(actor)
    reason = data.reason
    if not reason:
        raise ValidationFailed("Please give a reason (up to 300 characters)", fields={"reason": "required"})
    redemption = lock_redemption(session, redemption_id)
    if redemption.status not in ("pending", "approved"):
        raise ValidationFailed(ALREADY_DECIDED[RedemptionStatus(redemption.status)])
    reward = lock_reward(session, redemption.reward_id)  # stock is read-modify-write: take the reward's turn
    post_entry(session, redemption.member_id, amount=redemption.points_spent, kind="refund",
               description=ledger_text(REFUNDED, name=reward.name), clock=rules.clock, now=now, actor_id=actor.id,
               reference_id=redemption.id)
    if reward.stock is not None:
        reward.stock += 1
    redemption.status = RedemptionStatus.REJECTED
    redemption.rejection_reason = reason
    redemption.decided_at = now
    redemption.decided_by = actor.id
    session.flush()
    _decided(session, redemption, reward.name, now)
    return redemption


def fulfil_redemption(session: Session, actor: Member, redemption_id: uuid.UUID | str,
                      now: datetime) -> Redemption:
    """A parent marks an approved request as handed over (once)."""
    require_parent(actor)
    redemption = lock_redemption(session, redemption_id)
    if redemption.status == "pending":
        raise ValidationFailed("Approve this request before marking it fulfilled")
    if redemption.status != "approved":
        raise ValidationFailed(ALREADY_DECIDED[RedemptionStatus(redemption.status)])
    redemption.status = RedemptionStatus.FULFILLED
    redemption.fulfilled_at = now
    if redemption.decided_by is None:
        redemption.decided_by = actor.id
    session.flush()
    _decided(session, redemption, redemption.reward.name, now)
    return redemption


# --- reading requests -------------------------------------------------------------------------------------------

def get_redemption_or_404(session: Session, redemption_id: uuid.UUID | str) -> Redemption:
    """A request of this family (another family's id is simply not found)."""
    redemption = session.get(Redemption, _uuid_or_404(redemption_id, translatable("Redemption not found")),
                             options=[joinedload(Redemption.reward)])
    if redemption is None:
        raise NotFound("Redemption not found")
    return redemption


def list_redemptions(session: Session, *, member_id: uuid.UUID | None = None, statuses: tuple[str, ...] = (),
                     limit: int = 100) -> list[Redemption]:
    """Requests newest first, optionally one member's and/or in some statuses."""
    unknown = set(statuses) - set(RedemptionStatus)
    if unknown:
        raise ValidationFailed(phrase("Invalid status. Use one of: %(choices)s", choices=", ".join(RedemptionStatus)))
    query = select(Redemption).options(joinedload(Redemption.reward))
    if member_id is not None:
        query = query.where(Redemption.member_id == member_id)
    if statuses:
        query = query.where(Redemption.status.in_(statuses))
    return list(session.scalars(query.order_by(Redemption.requested_at.desc(), Redemption.id.desc()).limit(limit)))


# --- savings goals ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GoalProgress:
    """How far a kid is from the reward they are saving for."""

    goal: SavingsGoal
    reward: Reward
    points: int

    @property
    def percent(self) -> int:
        return min(100, self.points * 100 // self.reward.cost) if self.reward.cost else 100

    @property
    def points_to_go(self) -> int:
        return max(0, self.reward.cost - self.points)

    @property
    def reached(self) -> bool:
        return self.points >= self.reward.cost


def get_savings_goal(session: Session, member_id: uuid.UUID) -> SavingsGoal | None:
    """The reward a member is saving for, if any (one query, reward included)."""
    return session.scalar(select(SavingsGoal).where(SavingsGoal.member_id == member_id)
                          .options(joinedload(SavingsGoal.reward)))


def goal_progress(session: Session, member: Member) -> GoalProgress | None:
    """The member's goal with their progress towards it (for the store, the kid's view and the wall)."""
    goal = get_savings_goal(session, member.id)
    if goal is None or not goal.reward.active:
        return None
    return GoalProgress(goal=goal, reward=goal.reward, points=member.available_points)


def _check_goal_access(actor: Member, kid: Member) -> None:
    require_self_or_parent(actor, kid)
    if kid.is_parent or not kid.is_active:
        raise ValidationFailed("Savings goals are for kids", fields={"user_id": "invalid"})


def set_savings_goal(session: Session, actor: Member, kid: Member, choice: SavingsGoalInput) -> SavingsGoal:
    """Pin one reward as the kid's goal (replacing any earlier one)."""
    _check_goal_access(actor, kid)
    try:
        reward = get_reward_or_404(session, choice.reward_id)
    except NotFound:
        raise NotFound("Reward not found") from None
    lock_member(session, kid.id)  # two taps at once must not both insert a goal (one per kid)
    goal = get_savings_goal(session, kid.id)
    if goal is None:
        goal = SavingsGoal(member_id=kid.id, reward=reward)
        session.add(goal)
    else:
        goal.reward = reward
    session.flush()
    return goal


def clear_savings_goal(session: Session, actor: Member, kid: Member) -> bool:
    """Unpin the kid's goal; False when there was none."""
    _check_goal_access(actor, kid)
    goal = get_savings_goal(session, kid.id)
    if goal is None:
        return False
    session.delete(goal)
    session.flush()
    return True


# --- the store as a kid sees it ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class StoreItem:
    """One reward with what it means for this kid right now."""

    reward: Reward
    points: int  # the kid's available points
    available: bool  # active, window open today, in stock
    unavailable_reason: str | None
    requested_this_week: int
    requested_this_month: int
    is_goal: bool

    @property
    def affordable(self) -> bool:
        return self.points >= self.reward.cost

    @property
    def points_short(self) -> int:
        return max(0, self.reward.cost - self.points)

    @property
    def remaining_this_week(self) -> int | None:
        limit = self.reward.max_per_week
        return None if limit is None else max(0, limit - self.requested_this_week)

    @property
    def remaining_this_month(self) -> int | None:
        limit = self.reward.max_per_month
        return None if limit is None else max(0, limit - self.requested_this_month)

    @property
    def limit_reached(self) -> bool:
        return self.remaining_this_week == 0 or self.remaining_this_month == 0

    @property
    def can_request(self) -> bool:
        return self.available and self.affordable and not self.limit_reached

    @property
    def percent(self) -> int:
        return min(100, self.points * 100 // self.reward.cost) if self.reward.cost else 100


def list_store(session: Session, kid: Member, rules: FamilyRules, now: datetime,
               language: str | None = None) -> list[StoreItem]:
    """The active rewards for this kid: what they can afford, how far they are, what is open and left (3 queries);
    why a reward is closed is said in `language`."""
    today = rules.clock.today(now)
    counts = _counts(session, kid.id, rules.clock, now)
    goal = get_savings_goal(session, kid.id)
    items = []
    for reward in list_rewards(session):
        reason = None
        if not is_available_on(reward, today):
            reason = describe_availability(reward, language)
        elif reward.stock is not None and reward.stock <= 0:
            reason = phrase("Sold out").render(language)
        week, month = counts.get(reward.id, (0, 0))
        items.append(StoreItem(reward=reward, points=kid.available_points, available=reason is None,
                               unavailable_reason=reason, requested_this_week=week, requested_this_month=month,
                               is_goal=goal is not None and goal.reward_id == reward.id))
    return items


def redemption_counts_all_time(session: Session, member_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Per reward, the member's requests that were not rejected, ever (the API's `user_redemption_count`)."""
    rows = session.execute(select(Redemption.reward_id, func.count())
                           .where(Redemption.member_id == member_id, Redemption.status.in_(COUNTED_STATUSES))
                           .group_by(Redemption.reward_id))
    return {reward_id: int(count) for reward_id, count in rows}


def set_reward_photo(session: Session, reward: Reward, *, actor: Member, photo_name: str | None) -> Reward:
    """Show a photo for the reward in the store (None: back to its icon)."""
    require_parent(actor)
    reward.photo_name = photo_name
    session.flush()
    return reward
