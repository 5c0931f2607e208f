"""Host parsing decides which site a request reaches; every odd Host must land on the safe side."""
import pytest

from app.tenancy.hosts import Site, resolve_host

BASE = "localhost:5000"


@pytest.mark.parametrize(("host", "site", "slug"), [
    ("localhost:5000", Site.PLATFORM, None),
    ("www.localhost:5000", Site.WWW, None),
    ("admin.localhost:5000", Site.ADMIN, None),
    ("smith.localhost:5000", Site.FAMILY, "smith"),
    ("SMITH.LocalHost:5000", Site.FAMILY, "smith"),
    ("smith.localhost.:5000", Site.FAMILY, "smith"),
    ("smith-2.localhost:5000", Site.FAMILY, "smith-2"),
    ("a.b.localhost:5000", Site.NO_FAMILY, "a.b"),
    ("api.localhost:5000", Site.NO_FAMILY, "api"),
    ("staging.localhost:5000", Site.NO_FAMILY, "staging"),
    ("ab.localhost:5000", Site.NO_FAMILY, "ab"),
    ("bad--slug.localhost:5000", Site.NO_FAMILY, "bad--slug"),
    ("-lead.localhost:5000", Site.NO_FAMILY, "-lead"),
    (("x" * 51) + ".localhost:5000", Site.NO_FAMILY, "x" * 51),
    ("smith.localhost:5001", Site.NOT_OURS, None),
    ("smith.localhost", Site.NOT_OURS, None),
    ("127.0.0.1:5000", Site.NOT_OURS, None),
    ("[::1]:5000", Site.NOT_OURS, None),
    ("evil.com", Site.NOT_OURS, None),
    ("smith.localhost.evil.com:5000", Site.NOT_OURS, None),
    ("", Site.NOT_OURS, None),
])
def test_resolve_host(host: str, site: Site, slug: str | None) -> None:
    target = resolve_host(host, BASE)
    assert target.site is site
    if slug is not None:
        assert target.slug == slug


@pytest.mark.parametrize(("host", "site"), [
    ("housepoints.ai", Site.PLATFORM),
    ("housepoints.ai:443", Site.PLATFORM),
    ("rivera.housepoints.ai", Site.FAMILY),
    ("rivera.housepoints.ai:8443", Site.NOT_OURS),
    ("rivera.housepoints.ai.", Site.FAMILY),
])
def test_resolve_host_production_domain(host: str, site: Site) -> None:
    assert resolve_host(host, "housepoints.ai").site is site
