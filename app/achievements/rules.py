"""The badge catalogue as data: each badge is a measure of a kid's record and the threshold that earns it."""
from __future__ import annotations

from dataclasses import dataclass

from app.languages import Phrase, phrase, plural_phrase, translatable

# What a rule measures (computed by app.achievements.services.measure_progress):
CHORES = "chores_verified"        # assignments verified (a chore counts once it is approved)
STREAK = "streak_days"            # Member.streak_days: consecutive family days with everything done
LIFETIME_POINTS = "lifetime_points"  # Member.lifetime_points_earned
FULL_WEEK = "full_week"           # 1 when the last completed family week had nothing missed, else 0
REWARDS = "rewards_redeemed"      # redemptions approved or fulfilled

MEASURES = (CHORES, STREAK, LIFETIME_POINTS, FULL_WEEK, REWARDS)


@dataclass(frozen=True)
class BadgeRule:
    """One badge: earned once `measure` reaches `threshold`."""

    key: str
    name: str
    icon: str
    description: str
    measure: str
    threshold: int

    def progress_text(self, value: int) -> Phrase:
        """How far along a kid is, in words ("7 of 10 chores"), put in the reader's language by the page."""
        value = min(value, self.threshold)
        if self.measure == CHORES:
            return plural_phrase("%(value)s of %(num)d chore", "%(value)s of %(num)d chores", self.threshold,
                                 value=value)
        if self.measure == STREAK:
            return phrase("%(value)s of %(threshold)s days in a row", value=value, threshold=self.threshold)
        if self.measure == LIFETIME_POINTS:
            return phrase("%(value)s of %(threshold)s points", value=f"{value:,}", threshold=f"{self.threshold:,}")
        if self.measure == REWARDS:
            return phrase("No reward yet") if value == 0 else phrase("Done")
        return phrase("Not yet") if value == 0 else phrase("Done")


BADGE_RULES: tuple[BadgeRule, ...] = (
    BadgeRule("first_chore", translatable("First chore"), "⭐", translatable("Finished a first chore"), CHORES, 1),
    BadgeRule("chores_10", translatable("10 chores"), "🧽", translatable("Finished 10 chores"), CHORES, 10),
    BadgeRule("chores_50", translatable("50 chores"), "🧹", translatable("Finished 50 chores"), CHORES, 50),
    BadgeRule("chores_100", translatable("100 chores"), "🏆", translatable("Finished 100 chores"), CHORES, 100),
    BadgeRule("streak_3", translatable("3-day streak"), "🔥",
              translatable("Everything done 3 days in a row"), STREAK, 3),
    BadgeRule("streak_7", translatable("7-day streak"), "🚀",
              translatable("Everything done 7 days in a row"), STREAK, 7),
    BadgeRule("streak_30", translatable("30-day streak"), "👑",
              translatable("Everything done 30 days in a row"), STREAK, 30),
    BadgeRule("points_100", translatable("100 points"), "💯",
              translatable("Earned 100 points in all"), LIFETIME_POINTS, 100),
    BadgeRule("points_500", translatable("500 points"), "💎",
              translatable("Earned 500 points in all"), LIFETIME_POINTS, 500),
    BadgeRule("points_1000", translatable("1,000 points"), "🥇",
              translatable("Earned 1,000 points in all"), LIFETIME_POINTS, 1000),
    BadgeRule("full_week", translatable("Perfect week"), "📅",
              translatable("Every chore of a whole family week done, none missed"),
              FULL_WEEK, 1),
    BadgeRule("first_reward", translatable("First reward"), "🎁",
              translatable("Got a first reward from the store"), REWARDS, 1),
)

RULES_BY_KEY: dict[str, BadgeRule] = {rule.key: rule for rule in BADGE_RULES}
MAX_BONUS = 1000  # points a family may attach to one badge (setting `achievement_bonus`)


def rule_for(badge: str) -> BadgeRule | None:
    """The catalogue entry of a stored badge key (None for a badge this version no longer knows)."""
    return RULES_BY_KEY.get(badge)
