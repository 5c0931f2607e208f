"""Guards the deployment manifests (Dockerfile, compose, Kubernetes) against silent drift."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
KUBE = DEPLOY / "kubernetes"
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
COMPOSE = DEPLOY / "docker-compose.yml"

DEPLOYMENT_NAME = "housepoints-web"


def load(path):
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_kind(filename, kind):
    with (KUBE / filename).open(encoding="utf-8") as fh:
        docs = [d for d in yaml.safe_load_all(fh) if d]
    matches = [d for d in docs if d.get("kind") == kind]
    assert len(matches) == 1, f"expected exactly one {kind} in {filename}, got {len(matches)}"
    return matches[0]


def code_lines(path):
    """Non-blank lines with shell/Dockerfile comments stripped."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def dockerfile_instructions():
    """(INSTRUCTION, argument) pairs, with backslash continuations joined."""
    joined, buf = [], ""
    for line in code_lines(DOCKERFILE):
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        joined.append(buf + line)
        buf = ""
    if buf:
        joined.append(buf)
    result = []
    for line in joined:
        instruction, _, arg = line.partition(" ")
        result.append((instruction.upper(), arg.strip()))
    return result


def dockerfile_stages():
    """List of (from_argument, [instructions in that stage])."""
    stages = []
    for instruction, arg in dockerfile_instructions():
        if instruction == "FROM":
            stages.append((arg, []))
        elif stages:
            stages[-1][1].append((instruction, arg))
    return stages


def web_container():
    deployment = load_kind("deployment.yaml", "Deployment")
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


# --- Kubernetes -----------------------------------------------------------


def test_deployment_probes_hit_health_endpoint():
    container = web_container()
    for probe in ("readinessProbe", "livenessProbe"):
        http_get = container[probe]["httpGet"]
        assert http_get["path"] == "/health", probe
        assert http_get["port"] == "http", probe
        assert container[probe]["periodSeconds"] > 0, probe


def test_deployment_shape_and_security():
    deployment = load_kind("deployment.yaml", "Deployment")
    assert deployment["apiVersion"] == "apps/v1"
    assert deployment["metadata"]["name"] == DEPLOYMENT_NAME
    labels = {"app": "housepoints", "component": "web"}
    assert deployment["metadata"]["labels"] == labels
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    assert deployment["spec"]["template"]["metadata"]["labels"] == labels

    container = web_container()
    assert container["image"] == "housepoints:latest"
    assert {"name": "http", "containerPort": 8000, "protocol": "TCP"} in container["ports"]
    sources = {next(iter(ref)): ref[next(iter(ref))]["name"] for ref in container["envFrom"]}
    assert sources == {"secretRef": "housepoints-secrets", "configMapRef": "housepoints-config"}

    resources = container["resources"]
    assert resources["requests"] == {"cpu": "250m", "memory": "192Mi"}
    assert str(resources["limits"]["cpu"]) == "1"
    assert resources["limits"]["memory"] == "512Mi"

    security = container["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == 10001
    assert security["readOnlyRootFilesystem"] is False
    assert security["allowPrivilegeEscalation"] is False


def test_service_targets_container_port():
    service = load_kind("service.yaml", "Service")
    deployment = load_kind("deployment.yaml", "Deployment")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    (port,) = service["spec"]["ports"]
    assert port["port"] == 80
    container_port_names = {p["name"] for p in web_container()["ports"]}
    assert port["targetPort"] in container_port_names


def test_ingress_routes_apex_and_wildcard_to_service():
    ingress = load_kind("ingress.yaml", "Ingress")
    service = load_kind("service.yaml", "Service")
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    rules = {rule["host"]: rule for rule in ingress["spec"]["rules"]}
    assert set(rules) == {"housepoints.ai", "*.housepoints.ai"}
    for host, rule in rules.items():
        *streams, path = rule["http"]["paths"]
        if host == "*.housepoints.ai":  # a family's live stream goes to Pushpin, which holds it
            (events,) = streams
            assert (events["path"], events["pathType"]) == ("/events", "Exact")
            assert events["backend"]["service"] == {"name": "housepoints-pushpin", "port": {"number": 80}}
        else:
            assert not streams, "the apex has no live stream"
        assert path["path"] == "/", host
        assert path["pathType"] == "Prefix", host
        backend = path["backend"]["service"]
        assert backend["name"] == service["metadata"]["name"], host
        assert backend["port"]["number"] == service["spec"]["ports"][0]["port"], host
    (tls,) = ingress["spec"]["tls"]
    assert tls["secretName"] == "housepoints-wildcard-tls"
    assert set(tls["hosts"]) == {"housepoints.ai", "*.housepoints.ai"}


def test_hpa_scales_the_deployment():
    hpa = load_kind("hpa.yaml", "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    spec = hpa["spec"]
    assert spec["scaleTargetRef"]["kind"] == "Deployment"
    assert spec["scaleTargetRef"]["name"] == DEPLOYMENT_NAME
    assert spec["minReplicas"] == 2
    assert spec["maxReplicas"] == 20
    targets = {
        m["resource"]["name"]: m["resource"]["target"]
        for m in spec["metrics"]
        if m["type"] == "Resource"
    }
    assert targets["cpu"] == {"type": "Utilization", "averageUtilization": 70}
    assert targets["memory"] == {"type": "Utilization", "averageUtilization": 80}


def test_configmap_values():
    configmap = load_kind("configmap.yaml", "ConfigMap")
    assert configmap["metadata"]["name"] == "housepoints-config"
    assert configmap["data"] == {
        "BASE_DOMAIN": "housepoints.ai",
        "FAMILY_PLACEMENT": "pooled",
        "HOUSEPOINTS_CONFIG": "production",
        "TRUSTED_PROXIES": "1",
        "PUSH_SERVER_URL": "http://housepoints-pushpin:5561",
        "WEB_CONCURRENCY": "2",
    }


def test_pushpin_holds_streams_and_only_the_app_reaches_its_publish_port():
    deployment = load_kind("pushpin.yaml", "Deployment")
    service = load_kind("pushpin.yaml", "Service")
    policy = load_kind("pushpin.yaml", "NetworkPolicy")
    assert deployment["spec"]["replicas"] == 1  # a publish reaches one Pushpin: more would miss events
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "housepoints-pushpin:latest"
    env = {item["name"]: item for item in container["env"]}
    assert env["PUSHPIN_ORIGIN"]["value"] == "housepoints-web:80"
    assert env["GRIP_SIG_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "housepoints-secrets", "key": "GRIP_SIG_KEY"}
    assert {port["name"]: port["containerPort"] for port in container["ports"]} == {"http": 7999, "publish": 5561}
    assert container["securityContext"]["runAsUser"] == 10001
    ports = {port["name"]: port["port"] for port in service["spec"]["ports"]}
    assert ports == {"http": 80, "publish": 5561}
    # PUSH_SERVER_URL names this Service's publish port; the ingress never routes to it.
    url = load_kind("configmap.yaml", "ConfigMap")["data"]["PUSH_SERVER_URL"]
    assert url == f"http://{service['metadata']['name']}:{ports['publish']}"
    ingress = load_kind("ingress.yaml", "Ingress")
    backends = [path["backend"]["service"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]
    assert {"name": "housepoints-pushpin", "port": {"number": 5561}} not in backends
    open_port, publish = policy["spec"]["ingress"]
    assert "from" not in open_port and open_port["ports"] == [{"port": "http", "protocol": "TCP"}]
    assert publish["ports"] == [{"port": "publish", "protocol": "TCP"}]
    assert [peer["podSelector"]["matchLabels"]["component"] for peer in publish["from"]] == ["web", "worker"]


def test_cronjob_runs_tick_without_overlap():
    cronjob = load_kind("cronjob.yaml", "CronJob")
    assert cronjob["apiVersion"] == "batch/v1"
    assert cronjob["metadata"]["name"] == "housepoints-tick"
    assert cronjob["spec"]["schedule"] == "* * * * *"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    argv = list(container.get("command", [])) + list(container.get("args", []))
    assert argv == ["flask", "jobs", "tick"]
    assert container["image"] == web_container()["image"]
    assert container["envFrom"] == web_container()["envFrom"]


def test_kustomization_lists_every_manifest():
    kustomization = load(KUBE / "kustomization.yaml")
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed)), "duplicate resources"
    on_disk = {
        p.name
        for p in KUBE.iterdir()
        if p.suffix in {".yaml", ".yml"} and p.name != "kustomization.yaml"
    }
    assert on_disk, "no manifests found"
    assert set(listed) == on_disk


# --- docker compose -------------------------------------------------------


def test_compose_services_and_dependencies():
    services = load(COMPOSE)["services"]
    assert {"app", "worker", "postgres", "redis"} <= set(services)

    app = services["app"]
    assert app["build"]["context"] == ".."
    assert "ports" not in app, "the app is reached through Pushpin only"
    pushpin = services["pushpin"]
    assert pushpin["build"]["target"] == "pushpin" and pushpin["ports"] == ["8000:7999"]
    assert pushpin["environment"]["PUSHPIN_ORIGIN"] == "app:8000"
    assert pushpin["environment"]["GRIP_SIG_KEY"] == app["environment"]["GRIP_SIG_KEY"]
    assert app["environment"]["PUSH_SERVER_URL"] == "http://pushpin:5561"
    assert app["environment"]["TRUSTED_PROXIES"] == "1"
    for dependency in ("postgres", "redis"):
        assert app["depends_on"][dependency]["condition"] == "service_healthy"
        assert "healthcheck" in services[dependency], dependency
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "ping" in services["redis"]["healthcheck"]["test"]
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")


def test_compose_app_and_worker_share_environment():
    services = load(COMPOSE)["services"]
    app_env = services["app"]["environment"]
    worker = services["worker"]
    assert worker["image"] == services["app"]["image"]
    assert worker["command"] == ["worker"]
    assert worker["environment"]["SKIP_MIGRATIONS"] == "1"
    worker_env = {k: v for k, v in worker["environment"].items() if k != "SKIP_MIGRATIONS"}
    assert worker_env == app_env

    assert app_env["HOUSEPOINTS_CONFIG"] == "production"
    assert app_env["REDIS_URL"] == "redis://redis:6379/0"
    assert "@postgres:5432/housepoints_platform" in app_env["PLATFORM_DATABASE_URL"]
    assert "{slug}" in app_env["DEDICATED_DATABASE_URL_TEMPLATE"]
    # Secrets must be required, never defaulted.
    for key in ("SECRET_KEY", "JWT_SECRET", "GRIP_SIG_KEY"):
        assert re.fullmatch(r"\$\{" + key + r":\?[^}]+\}", app_env[key]), key


# --- Dockerfile and entrypoint -------------------------------------------


def test_dockerfile_is_multistage_with_node_assets():
    stages = dockerfile_stages()
    assert len(stages) >= 2
    node_stages = [(base, body) for base, body in stages if base.startswith("node:")]
    assert node_stages, "no node build stage"
    assert any(
        instruction == "RUN" and "npm ci" in arg
        for _, body in node_stages
        for instruction, arg in body
    )
    final_base, final_body = stages[-1]
    assert final_base.startswith("python:3.11")
    assert any(
        instruction == "COPY" and "--from=assets" in arg for instruction, arg in final_body
    )


def test_dockerfile_builds_pushpin_with_the_repository_config():
    (base, body), = [(base, body) for base, body in dockerfile_stages() if base.endswith(" AS pushpin")]
    assert base.startswith("debian:bookworm")  # pushpin 1.36, the version measured
    assert any(instruction == "RUN" and "apt-get install" in arg and "pushpin" in arg for instruction, arg in body)
    copied = [arg.split()[0] for instruction, arg in body if instruction == "COPY"]
    assert copied == ["scripts/run-pushpin.sh", "deploy/pushpin/pushpin.conf.in"]
    users = [arg for instruction, arg in body if instruction == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert ("ENTRYPOINT", '["bash", "/srv/scripts/run-pushpin.sh"]') in body


def test_dockerfile_runs_as_non_root_via_entrypoint():
    _, final_body = dockerfile_stages()[-1]
    users = [arg for instruction, arg in final_body if instruction == "USER"]
    assert users, "runtime stage sets no USER"
    assert users[-1] not in {"root", "0"}
    # The uid must match runAsUser in the Kubernetes securityContext.
    creates_user = re.compile(r"useradd\b.*--uid 10001\b.*\b" + re.escape(users[-1]) + r"\b")
    assert any(
        instruction == "RUN" and creates_user.search(arg) for instruction, arg in final_body
    )

    entrypoints = [arg for instruction, arg in final_body if instruction == "ENTRYPOINT"]
    assert entrypoints[-1] == '["/app/entrypoint.sh"]'
    assert any(
        instruction == "COPY" and arg.split()[0] == "deploy/entrypoint.sh"
        for instruction, arg in final_body
    )
    assert ("EXPOSE", "8000") in final_body
    healthchecks = [arg for instruction, arg in final_body if instruction == "HEALTHCHECK"]
    assert healthchecks and "/health" in healthchecks[-1]


def test_entrypoint_migrates_in_order_then_execs_gunicorn():
    lines = code_lines(ENTRYPOINT)
    assert ENTRYPOINT.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    assert "set -eu" in lines

    def index_of(command):
        hits = [i for i, line in enumerate(lines) if line.split()[: len(command)] == command]
        assert len(hits) == 1, f"{command} appears {len(hits)} times"
        return hits[0]

    platform = index_of(["flask", "db", "upgrade"])
    families = index_of(["flask", "families", "upgrade", "--all"])
    serve = index_of(["exec", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"])
    assert platform < families < serve
    assert 'exec "$@"' in lines
    assert any("SKIP_MIGRATIONS" in line for line in lines)


def test_probes_present_the_apex_host() -> None:
    """The tenancy hook rejects a bare pod IP, so every probe must send the apex Host header."""
    deployment = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "deployment.yaml").read_text())
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        headers = container[probe]["httpGet"].get("httpHeaders", [])
        assert {"name": "Host", "value": "housepoints.ai"} in headers
