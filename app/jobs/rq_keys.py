"""RQ's Redis keys inside the platform keyspace: every key and channel RQ uses is renamed under one platform key.

RQ 2.12 builds its names from `rq:` constants spread over class attributes and module globals (subclassing Queue
and Job reaches only some of them: registries, results, executions and worker registration are built from the
library's own classes). So the names are set once per process, on RQ itself, to `<prefix>:platform:rq:…`. A process
serves one deployment, hence one prefix; the version pin makes an RQ upgrade stop here instead of leaking keys.
"""
from __future__ import annotations

import rq
from rq import command, executions, group, job, queue, registry, results, scheduler, suspension, worker_registration
from rq.worker import base as worker_base

RQ_VERSION = "2.12.0"  # the release whose names are listed below; check them again before changing the pin

_applied: list[str] = []


def namespace_rq(namespace: str) -> None:
    """Rename every RQ key and channel in this process to start with `namespace` (a platform key)."""
    if rq.__version__ != RQ_VERSION:
        raise RuntimeError(f"app/jobs/rq_keys.py knows RQ {RQ_VERSION}'s key names, not {rq.__version__}'s")
    if _applied == [namespace]:
        return
    ns = namespace
    job.Job.redis_job_namespace_prefix = f"{ns}:job:"
    queue.Queue.redis_queue_namespace_prefix = f"{ns}:queue:"
    queue.Queue.redis_queues_keys = f"{ns}:queues"
    queue.Queue.registry_cleaning_key = property(  # type: ignore[assignment, method-assign]
        lambda self: f"{ns}:clean_registries:{self.name}")
    for registry_class, kind in ((registry.BaseRegistry, "registry"), (registry.StartedJobRegistry, "wip"),
                                 (registry.FinishedJobRegistry, "finished"), (registry.FailedJobRegistry, "failed"),
                                 (registry.DeferredJobRegistry, "deferred"),
                                 (registry.ScheduledJobRegistry, "scheduled"),
                                 (registry.CanceledJobRegistry, "canceled"),
                                 (executions.ExecutionRegistry, "executions")):
        registry_class.key_template = f"{ns}:{kind}:{{0}}"
    results.get_key = lambda job_id: f"{ns}:results:{job_id}"
    results.Result.get_key = classmethod(lambda _cls, job_id: f"{ns}:results:{job_id}")  # type: ignore[assignment]
    executions.Execution.key = property(  # type: ignore[assignment, method-assign]
        lambda self: f"{ns}:execution:{self.composite_key}")
    worker_registration.WORKERS_BY_QUEUE_KEY = f"{ns}:workers:%s"
    worker_registration.REDIS_WORKER_KEYS = f"{ns}:workers"
    worker_base.BaseWorker.redis_worker_namespace_prefix = f"{ns}:worker:"
    worker_base.BaseWorker.redis_workers_keys = f"{ns}:workers"
    command.PUBSUB_CHANNEL_TEMPLATE = f"{ns}:pubsub:%s"
    worker_base.PUBSUB_CHANNEL_TEMPLATE = f"{ns}:pubsub:%s"  # type: ignore[attr-defined]  # imported by name there
    scheduler.SCHEDULER_KEY_TEMPLATE = f"{ns}:scheduler:%s"
    scheduler.SCHEDULER_LOCKING_KEY_TEMPLATE = f"{ns}:scheduler-lock:%s"
    suspension.WORKERS_SUSPENDED = f"{ns}:suspended"
    group.Group.REDIS_GROUP_NAME_PREFIX = f"{ns}:group:"
    group.Group.REDIS_GROUP_KEY = f"{ns}:groups"
    _applied[:] = [namespace]
