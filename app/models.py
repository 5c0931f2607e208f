"""Every model module, imported in one place so both metadatas are complete for Alembic and the tests."""
from app.chores.models import Chore  # noqa: F401
from app.members.models import FamilySetting, Member  # noqa: F401
from app.platform.models import AuditLog, Family, FamilyMembership, PlatformAnalytics, Subscription, User  # noqa: F401
