"""`/api/openapi.json` and `/api/docs`: the API described from its own routes and input models, so it cannot drift."""
from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, render_template
from pydantic import BaseModel

from app.allowance.inputs import ConversionInput, ScheduleInput
from app.api import bp, platform_bp
from app.assignments.inputs import AssignmentInput, CompletionInput, VerificationInput
from app.auth.inputs import LoginInput
from app.chores.inputs import ChoreInput, ChoreUpdate
from app.members.inputs import MemberChanges, MemberInput
from app.notifications.inputs import WebhookInput
from app.points.inputs import PointsAward, PresetInput
from app.presence.inputs import PresenceExceptionInput, PresencePatternInput
from app.rewards.inputs import RedeemInput, RejectInput, RewardInput
from app.settings.inputs import SettingValue

Schema = dict[str, Any]
REF = "#/components/schemas/{model}"

ERROR_SCHEMA = {"type": "object", "required": ["error"],
                "properties": {"error": {"type": "string"}, "details": {}, "fields": {"type": "object"}}}
PUBLIC = {"/api/version", "/api/family/info", "/api/auth/login", "/api/openapi.json", "/api/docs"}

# --- response shapes: the serialisers' keys and JSON types (tests/api/test_openapi.py checks real responses) --------
STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
ID: Schema = {"type": "string", "format": "uuid"}
ANY_OBJECT: Schema = {"type": "object"}


def nullable(schema: Schema) -> Schema:
    """The same schema, or JSON null."""
    return {"anyOf": [schema, {"type": "null"}]}


def shape(required: Mapping[str, Schema], optional: Mapping[str, Schema] | None = None) -> Schema:
    """A JSON object with these keys always present and these sometimes (more keys are allowed: docs, not a cage)."""
    return {"type": "object", "required": sorted(required), "properties": {**required, **(optional or {})}}


def array(items: Schema) -> Schema:
    """A JSON array of `items`."""
    return {"type": "array", "items": items}


TIMESTAMP: Schema = {"type": "string"}
NSTR = nullable(STR)
NINT = nullable(INT)
USER_ITEM = shape({"id": ID, "username": STR, "display_name": STR, "color_theme": NSTR, "total_points": INT,
                   "weekly_points": INT, "level": INT, "is_parent": BOOL, "is_active": BOOL},
                  {"age": INT, "avatar_url": STR})  # the serialiser leaves these out when null
USER_DETAIL = shape({**{key: USER_ITEM["properties"][key] for key in USER_ITEM["required"]}, "xp": INT,
                     "streak_days": INT, "last_active": TIMESTAMP, "availability_notifications": BOOL,
                     "auto_approve_work": BOOL, "daily_goal": NINT, "usually_eats_dinner": BOOL,
                     "available_points": INT, "lifetime_points_earned": INT, "created_at": TIMESTAMP},
                    {"age": INT, "avatar_url": STR, "birthdate": STR, "email": STR, "phone_number": STR,
                     "school": STR})
USER_WRITTEN = shape({"id": ID, "username": STR, "display_name": STR, "color_theme": NSTR, "email": NSTR,
                      "is_parent": BOOL, "login_enabled": BOOL})
CHORE_ITEM = shape({"id": ID, "name": STR, "category": STR, "base_points": INT, "difficulty": NSTR, "icon": NSTR,
                    "active": BOOL, "assignment_type": STR}, {"estimated_minutes": INT})
CHORE_DETAIL = shape({**{key: CHORE_ITEM["properties"][key] for key in CHORE_ITEM["required"]},
                      "bonus_eligible": BOOL, "penalty_points": INT,
                      "requires_verification": BOOL, "requires_photo": BOOL, "created_at": TIMESTAMP,
                      "updated_at": TIMESTAMP, "min_age": NINT, "rotation_eligible": BOOL, "open_bonus_points": INT,
                      "schedule": nullable(ANY_OBJECT), "assignees": array(ID)},
                     {"description": STR, "instructions": STR, "estimated_minutes": INT, "tags": array(STR),
                      "frequency": STR, "due_time": STR, "not_before_time": STR})
MEMBER_SUMMARY = shape({"id": ID, "username": STR, "display_name": STR, "color_theme": NSTR})
ASSIGNMENT = shape({"id": ID, "chore_id": ID, "status": STR}, {"assigned_to": ID, "chore": ANY_OBJECT,
                                                                 "assigned_user": MEMBER_SUMMARY})
TOKEN = shape({"token": STR, "user_id": ID, "username": STR, "is_parent": BOOL, "family_id": ID})
VERSION = shape({"service": STR, "version": STR})
FAMILY_INFO = shape({"family_id": ID, "family_slug": STR, "family_name": STR, "plan": STR, "status": STR},
                    {"database": STR})  # the database's name only for operators (app/operator_access.py)
MESSAGE = shape({"message": STR})


def listing(key: str, items: Schema, **more: Schema) -> Schema:
    """The API's list envelope: `{key: [...], …}`."""
    return shape({key: array(items), **more})


# --- request bodies: the input models, under the names the wire uses -------------------------------------------------

# What the request door lets through in text: no NUL, lone surrogate or control character (tab and newlines aside).
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"


def _plain_text(schema: Any) -> None:
    """Give every free-text string in `schema` the door's pattern, in place."""
    if isinstance(schema, dict):
        if schema.get("type") == "string" and not {"pattern", "format", "enum"} & set(schema):
            schema["pattern"] = TEXT_PATTERN
        for value in schema.values():
            _plain_text(value)
    elif isinstance(schema, list):
        for value in schema:
            _plain_text(value)


def wire(model: type[BaseModel], *, rename: Mapping[str, str] | None = None, drop: Iterable[str] = (),
         extra: Mapping[str, Schema] | None = None, required: Iterable[str] | None = None) -> Schema:
    """`model`'s JSON schema with the API's key names (renamed, some left out, a few added for old clients)."""
    schema = model.model_json_schema(ref_template=REF)
    schema.pop("$defs", None)  # hoisted into components by build_openapi
    renames = rename or {}
    properties = {renames.get(name, name): value for name, value in schema.get("properties", {}).items()
                  if name not in set(drop)}
    properties.update(extra or {})
    names = list(schema.get("required", [])) if required is None else list(required)
    schema["properties"] = properties
    schema["additionalProperties"] = False  # other keys are ignored, so a client has no reason to send them
    _plain_text(schema)
    schema["required"] = [renames.get(name, name) for name in names if renames.get(name, name) in properties]
    if not schema["required"]:
        del schema["required"]
    return schema


def _defs(models: Iterable[type[BaseModel]]) -> dict[str, Schema]:
    """The nested models' schemas (e.g. a chore's ScheduleInput), for components."""
    found: dict[str, Schema] = {}
    for model in models:
        found.update(model.model_json_schema(ref_template=REF).get("$defs", {}))
    _plain_text(found)
    return found


@dataclass(frozen=True)
class Param:
    """One query (or header) parameter."""

    name: str
    schema: Schema
    description: str = ""


@dataclass(frozen=True)
class Op:
    """What the document says of one view: its body, query, success status and response shape."""

    body: Schema | None = None
    query: tuple[Param, ...] = ()
    headers: tuple[Param, ...] = ()
    status: int | tuple[int, ...] = 200
    response: Schema = field(default_factory=lambda: ANY_OBJECT)
    body_required: bool = True


LIMIT, OFFSET = Param("limit", INT, "How many (bounded)"), Param("offset", INT, "How many to skip")
DAY = {"type": "string", "format": "date"}
USER_RENAMES = {"color": "color_theme", "avatar": "avatar_url"}
PROFILE_KEYS = ("display_name", "email", "phone_number", "color", "avatar", "birthdate", "daily_goal",
                "usually_eats_dinner", "auto_approve_work", "availability_notifications")
REWARD_RENAMES = {"cost": "cost_points", "requires_approval": "requires_parent_approval", "stock": "stock_remaining"}
RETRY_KEY = Param("Idempotency-Key", {"type": "string", "pattern": "^[!-~]{1,100}$"},
                  "A retry with the same key returns the first post instead of posting again")
DELIVERY_STATUS = Param("status", STR, "pending, delivered or failed")
BODY_MODELS: tuple[type[BaseModel], ...] = (ChoreInput, ChoreUpdate)

# Every /api view of the family host, by endpoint. A test fails when a route is missing here or an entry has no route.
OPERATIONS: dict[str, Op] = {
    "api.version": Op(response=VERSION),
    "api.family_info": Op(response=FAMILY_INFO),
    "api.openapi_document": Op(),
    "api.api_docs": Op(response=STR),
    "api.login": Op(body=wire(LoginInput), response=TOKEN),
    "api.auth_me": Op(response=USER_DETAIL),
    # members
    "api.get_me": Op(response=USER_DETAIL),
    "api.update_me": Op(body=wire(MemberChanges, rename=USER_RENAMES,
                                  drop=set(MemberChanges.model_fields) - set(PROFILE_KEYS)),
                         response=shape({"message": STR, "updated_fields": INT})),
    "api.get_my_preferences": Op(response=shape({"preferences": ANY_OBJECT})),
    "api.replace_my_preferences": Op(body=ANY_OBJECT, response=MESSAGE),
    "api.list_users": Op(response=listing("users", USER_ITEM)),
    "api.create_user": Op(body=wire(MemberInput, rename=USER_RENAMES, drop=("role", "avatar", "user_id"),
                                    extra={"is_parent": BOOL}), status=201, response=USER_WRITTEN),
    "api.get_user": Op(response=USER_DETAIL),
    "api.update_user": Op(body=wire(MemberChanges, rename=USER_RENAMES, drop=("role", "avatar"),
                                    extra={"is_parent": BOOL, "is_active": BOOL, "password": STR, "pin": STR}),
                          response=shape({"message": STR, "user": USER_WRITTEN})),
    "api.delete_user": Op(response=MESSAGE),
    "api.weekly_leaderboard": Op(),
    "api.alltime_leaderboard": Op(),
    # chores
    "api.list_family_chores": Op(response=listing("chores", CHORE_ITEM, count=INT, family_id=ID, family_name=STR)),
    "api.create_family_chore": Op(body=wire(ChoreInput), status=201, response=CHORE_DETAIL),
    "api.get_family_chore": Op(response=CHORE_DETAIL),
    "api.update_family_chore": Op(body=wire(ChoreUpdate), response=CHORE_DETAIL),
    "api.delete_family_chore": Op(response=shape({"id": ID, "message": STR})),
    # achievements
    "api.badge_catalogue": Op(),
    "api.member_badge_wall": Op(),
    # allowance
    "api.user_conversions": Op(),
    "api.convert_user_points": Op(body=wire(ConversionInput), status=201),
    "api.user_money_statement": Op(),
    "api.user_allowance_schedule": Op(),
    "api.set_user_allowance_schedule": Op(body=wire(ScheduleInput)),
    "api.my_goal": Op(),
    "api.set_user_goal": Op(body={**shape({"reward_id": ID}), "additionalProperties": False}),
    "api.clear_user_goal": Op(),
    # presence and schedule
    "api.schedule": Op(query=(Param("start_date", DAY), Param("end_date", DAY), Param("days", INT))),
    "api.list_patterns": Op(query=(Param("user_id", ID),)),
    "api.create_pattern": Op(body=wire(PresencePatternInput, extra={"user_id": ID}, required=("user_id", "weekdays")),
                             status=201),
    "api.list_exceptions": Op(query=(Param("user_id", ID), Param("start_date", DAY), Param("end_date", DAY))),
    "api.create_exception": Op(body=wire(PresenceExceptionInput, extra={"user_id": ID},
                                         required=("user_id", "start_date")), status=201),
    "api.delete_rule": Op(),
    # settings
    "api.list_settings": Op(),
    "api.read_setting": Op(),
    "api.write_setting": Op(body=wire(SettingValue, drop=("key",)), status=(200, 201),
                          response=shape({"key": STR, "message": STR}, {"value": {}})),
    # assignments
    "api.list_assignments": Op(query=(Param("user_id", ID), Param("status", STR), Param("start_date", DAY),
                                      Param("end_date", DAY), LIMIT, OFFSET),
                               response=listing("assignments", ASSIGNMENT)),
    "api.my_assignments": Op(query=(Param("status", STR), Param("start_date", DAY), Param("end_date", DAY), LIMIT,
                                    OFFSET), response=listing("assignments", ASSIGNMENT)),
    "api.get_one_assignment": Op(response=ASSIGNMENT),
    "api.create_one_assignment": Op(body=wire(AssignmentInput), status=201, response=ASSIGNMENT),
    "api.claim": Op(response=ANY_OBJECT),
    "api.complete": Op(body=wire(CompletionInput), body_required=False),
    "api.verify": Op(body=wire(VerificationInput)),
    "api.undo": Op(),
    "api.skip": Op(),
    "api.reopen": Op(),
    # reports
    "api.weekly_summary_report": Op(query=(Param("week_start", DAY), Param("week_end", DAY))),
    "api.child_performance_report": Op(query=(Param("days", INT),)),
    "api.category_breakdown_report": Op(query=(Param("range", STR, "week, month or year"),)),
    "api.performance_trends_report": Op(query=(Param("days", INT),)),
    # notifications and webhooks
    "api.notifications_list": Op(query=(Param("unread", STR, "true: only unread"), LIMIT, OFFSET)),
    "api.notifications_mark_read": Op(),
    "api.notifications_mark_all_read": Op(),
    "api.notifications_get_preferences": Op(),
    "api.notifications_put_preferences": Op(body=shape({}, {"preferences": ANY_OBJECT})),
    "api.notifications_get_settings": Op(),
    "api.notifications_put_settings": Op(body={**shape({}, {"digest_hour": INT, "reminder_lead_minutes": INT}),
                                               "additionalProperties": False}),
    "api.webhooks_list": Op(),
    "api.webhooks_create": Op(body=wire(WebhookInput, drop=("active",), required=("url",)), status=201),
    "api.webhooks_get": Op(),
    "api.webhooks_update": Op(body=wire(WebhookInput)),
    "api.webhooks_delete": Op(),
    "api.webhooks_rotate_secret": Op(),
    "api.webhooks_deliveries": Op(query=(DELIVERY_STATUS, LIMIT)),
    "api.deliveries_list": Op(query=(DELIVERY_STATUS, LIMIT)),
    "api.deliveries_retry": Op(status=202, response=shape({"message": STR, "delivery": ANY_OBJECT})),
    # points
    "api.user_points": Op(),
    "api.user_transactions": Op(query=(Param("type", STR), LIMIT, OFFSET)),
    "api.user_stats": Op(),
    "api.give_bonus": Op(body=wire(PointsAward, drop=("kind",)), headers=(RETRY_KEY,), status=201),
    "api.give_deduction": Op(body=wire(PointsAward, drop=("kind",)), headers=(RETRY_KEY,), status=201),
    "api.point_presets": Op(),
    "api.add_point_preset": Op(body=wire(PresetInput), status=201),
    # rewards
    "api.list_family_rewards": Op(),
    "api.create_family_reward": Op(body=wire(RewardInput, rename=REWARD_RENAMES,
                                             required=("name", "cost", "category")), status=201),
    "api.update_family_reward": Op(body=wire(RewardInput, rename=REWARD_RENAMES)),
    "api.delete_family_reward": Op(),
    "api.redeem_reward": Op(body=wire(RedeemInput), body_required=False),
    "api.approve_family_redemption": Op(),
    "api.reject_family_redemption": Op(body=wire(RejectInput)),
    "api.fulfil_family_redemption": Op(),
    "api.list_family_redemptions": Op(query=(Param("status", STR), Param("user_id", ID), LIMIT)),
    "api.user_redeemed_rewards": Op(),
}


def _path_and_parameters(rule: str) -> tuple[str, list[Schema]]:
    parameters = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        # Every <…_id> is a UUID (the views answer 400 "Invalid … ID" to anything else).
        uuid_like = converter == "uuid" or name.endswith("_id")
        schema = {"type": "string", "format": "uuid"} if uuid_like else {"type": "string", "pattern": TEXT_PATTERN}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), parameters


def _responses(op: Op, public: bool) -> dict[str, Any]:
    """Success with its shape, then the error statuses every route may answer, all in the one error body."""
    error = {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}
    content = ({"text/html": {"schema": STR}} if op.response is STR
               else {"application/json": {"schema": copy.deepcopy(op.response)}})
    statuses = op.status if isinstance(op.status, tuple) else (op.status,)
    responses: dict[str, Any] = {str(status): {"description": "Success", "content": content} for status in statuses}
    responses["400"] = {"description": "Bad input", "content": error}
    responses["404"] = {"description": "Not found", "content": error}
    responses["409"] = {"description": "Conflicts with the current state", "content": error}
    if op.headers:
        responses["422"] = {"description": "A header's value was already used for another request", "content": error}
    responses["429"] = {"description": "Too many requests", "content": error}
    if not public:
        responses["401"] = {"description": "Missing, invalid or expired token", "content": error}
        responses["403"] = {"description": "Not allowed, or a token of another family", "content": error}
    return responses


def build_openapi() -> dict[str, Any]:
    """An OpenAPI 3.1 document of every /api route of the family host: parameters, bodies and responses."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api") or rule.endpoint.startswith("platform_api."):
            continue
        path, parameters = _path_and_parameters(rule.rule)
        view = current_app.view_functions[rule.endpoint]
        summary = (inspect.getdoc(view) or rule.endpoint).splitlines()[0]
        op = OPERATIONS.get(rule.endpoint, Op())
        query = [{"name": param.name, "in": where, "required": False, "schema": param.schema,
                  **({"description": param.description} if param.description else {})}
                 for where, params in (("query", op.query), ("header", op.headers)) for param in params]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation: dict[str, Any] = {
                "operationId": f"{rule.endpoint}.{method.lower()}",
                "summary": summary,
                "tags": [rule.endpoint.split(".")[1].split("_")[0] if "." in rule.endpoint else "api"],
                "responses": _responses(op, rule.rule in PUBLIC),
            }
            if parameters or query:
                operation["parameters"] = [*parameters, *query]
            if op.body is not None:
                operation["requestBody"] = {"required": op.body_required,
                                            "content": {"application/json": {"schema": copy.deepcopy(op.body)}}}
            if rule.rule not in PUBLIC:
                operation["security"] = [{"bearer": []}]
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "HousePoints API", "version": current_app.config["VERSION"],
                 "description": "Served on each family's subdomain; wire-compatible with the previous service."},
        "servers": [{"url": f"{current_app.config['PREFERRED_URL_SCHEME']}://{{family}}."
                            f"{current_app.config['BASE_DOMAIN']}",
                     "variables": {"family": {"default": "demo"}}}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
                       "schemas": {"Error": ERROR_SCHEMA, **_defs(BODY_MODELS)}},
        "paths": dict(sorted(paths.items())),
    }


@bp.get("/openapi.json")
@platform_bp.get("/openapi.json")
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of every route."""
    return build_openapi()


@bp.get("/docs")
@platform_bp.get("/docs")
def api_docs() -> str:
    """A readable page of the same document."""
    return render_template("api/docs.html", spec=build_openapi())
