"""Every model module, imported in one place so both metadatas are complete for Alembic and the tests."""
from app.auth.models import LoginFailure, MemberSession, TabletDevice  # noqa: F401
from app.assignments.models import Assignment, MaterialisedDay  # noqa: F401
from app.chores.models import Chore, ChoreAssignee, ChoreSchedule  # noqa: F401
from app.members.models import FamilySetting, Member  # noqa: F401
from app.points.models import LedgerEntry, PointPreset  # noqa: F401
from app.presence.models import PresenceException, PresencePattern  # noqa: F401
from app.platform.models import (  # noqa: F401
    AuditLog, Family, FamilyMembership, Invitation, PlatformAnalytics, Subscription, UsedToken, User)
