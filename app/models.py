"""Every model module, imported in one place so both metadatas are complete for Alembic and the tests."""
from app.achievements.models import MemberBadge  # noqa: F401
from app.allowance.models import AllowanceSchedule, Payout  # noqa: F401
from app.auth.models import LoginFailure, MemberSession, TabletDevice  # noqa: F401
from app.assignments.models import Assignment, MaterialisedDay  # noqa: F401
from app.chores.models import Chore, ChoreAssignee, ChoreSchedule  # noqa: F401
from app.members.models import FamilySetting, Member  # noqa: F401
from app.notifications.models import (  # noqa: F401
    CalendarFeed, Delivery, Notification, NotificationPreference, Webhook)
from app.points.models import LedgerEntry, PointPreset  # noqa: F401
from app.presence.models import PresenceException, PresencePattern  # noqa: F401
from app.rewards.models import Redemption, Reward, SavingsGoal  # noqa: F401
from app.platform.models import (  # noqa: F401
    AuditLog, Family, FamilyMembership, Invitation, LoginLockout, PlatformAnalytics, Subscription, UsedToken, User)
