"""Every model module, imported in one place so both metadatas are complete for Alembic and the tests."""
from app.auth.models import LoginFailure, MemberSession, TabletDevice  # noqa: F401
from app.chores.models import Chore  # noqa: F401
from app.members.models import FamilySetting, Member  # noqa: F401
from app.platform.models import (  # noqa: F401
    AuditLog, Family, FamilyMembership, Invitation, PlatformAnalytics, Subscription, UsedToken, User)
