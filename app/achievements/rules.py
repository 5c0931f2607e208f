"""The badge catalogue as data: each badge is a measure of a kid's record and the threshold that earns it."""
from __future__ import annotations

from dataclasses import dataclass

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

    def progress_text(self, value: int) -> str:
        """How far along a kid is, in words ("7 of 10 chores")."""
        value = min(value, self.threshold)
        if self.measure == CHORES:
            return f"{value} of {self.threshold} chore{'s' * (self.threshold != 1)}"
        if self.measure == STREAK:
            return f"{value} of {self.threshold} days in a row"
        if self.measure == LIFETIME_POINTS:
            return f"{value:,} of {self.threshold:,} points"
        if self.measure == REWARDS:
            return "No reward yet" if value == 0 else "Done"
        return "Not yet" if value == 0 else "Done"


BADGE_RULES: tuple[BadgeRule, ...] = (
    BadgeRule("first_chore", "First chore", "⭐", "Finished a first chore", CHORES, 1),
    BadgeRule("chores_10", "10 chores", "🧽", "Finished 10 chores", CHORES, 10),
    BadgeRule("chores_50", "50 chores", "🧹", "Finished 50 chores", CHORES, 50),
    BadgeRule("chores_100", "100 chores", "🏆", "Finished 100 chores", CHORES, 100),
    BadgeRule("streak_3", "3-day streak", "🔥", "Everything done 3 days in a row", STREAK, 3),
    BadgeRule("streak_7", "7-day streak", "🚀", "Everything done 7 days in a row", STREAK, 7),
    BadgeRule("streak_30", "30-day streak", "👑", "Everything done 30 days in a row", STREAK, 30),
    BadgeRule("points_100", "100 points", "💯", "Earned 100 points in all", LIFETIME_POINTS, 100),
    BadgeRule("points_500", "500 points", "💎", "Earned 500 points in all", LIFETIME_POINTS, 500),
    BadgeRule("points_1000", "1,000 points", "🥇", "Earned 1,000 points in all", LIFETIME_POINTS, 1000),
    BadgeRule("full_week", "Perfect week", "📅", "Every chore of a whole family week done, none missed",
              FULL_WEEK, 1),
    BadgeRule("first_reward", "First reward", "🎁", "Got a first reward from the store", REWARDS, 1),
)

RULES_BY_KEY: dict[str, BadgeRule] = {rule.key: rule for rule in BADGE_RULES}
MAX_BONUS = 1000  # points a family may attach to one badge (setting `achievement_bonus`)


def rule_for(badge: str) -> BadgeRule | None:
    """The catalogue entry of a stored badge key (None for a badge this version no longer knows)."""
    return RULES_BY_KEY.get(badge)
