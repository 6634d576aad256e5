"""rules.yaml: load, validate, and point at the exact line and column of every problem.

The schema is pydantic models; YAML nodes keep their positions so that each validation
error is reported as FILE:LINE:COLUMN: message. A file either loads whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Generic, Literal, Optional, Protocol, TypeVar, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from foundation.categories import CATEGORIES, ENTITIES
from foundation.errors import RulesError
from foundation.secrets import SECRET_WORDS

SECRET_HINT = ("secrets never go in rules.yaml: remove this line and set the password in the environment "
               "(LIAISON_IMAP_PASSWORD, LIAISON_SMTP_PASSWORD; see the README)")

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ROLE_RECIPIENTS = ("account_manager", "sender")
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
OneOrMany = str | list[str]


#: The languages replies are shipped in.
Language = Literal["en", "fr", "de", "es", "nl"]

class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_true_or_false_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic reads true as 1 and false as 0: `count: true` would allow one message, `minutes: false`
        # a window of nothing. A value that may be a number but not true/false refuses them.
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, bool) and field is not None and _number_not_flag(field.annotation):
            raise ValueError(f"expected a number, not true/false ({str(value).lower()})")
        return value


def _number_not_flag(annotation: Any) -> bool:
    """Whether a field's type takes a number (int, float, a numeric Literal) and not a boolean."""
    kinds = _scalar_kinds(annotation)
    return bool(kinds & {int, float}) and bool not in kinds


def _scalar_kinds(annotation: Any) -> set[Any]:
    """The plain types a value of this annotation may be, through Annotated, Optional, unions and Literal
    (not into lists or mappings: their items are checked where they are models)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _scalar_kinds(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return set().union(*(_scalar_kinds(arg) for arg in get_args(annotation)))
    if origin is Literal:
        return {type(arg) for arg in get_args(annotation)}
    return {annotation}


def _a_written_time(value: Any) -> Any:
    # YAML reads an unquoted 8:00 as the base-60 number 480, and pydantic a number as seconds past midnight: the
    # summary was due at 00:08 and every comparison with an aware time failed, the daemon with it (round 23)
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"write the time in quotes, {_times_meant(value)}: unquoted, YAML reads 8:00 as the "
                         f"number 480 (here {value!r})")
    if isinstance(value, str) and re.match(r"^\d:\d\d", value.strip()):
        return "0" + value.strip()  # "9:30" as people write it; pydantic wants "09:30"
    return value


def _times_meant(number: float) -> str:
    """What an unquoted number in a time field was written as: 13:20 read base 60, or 1320 as on a timetable
    (YAML cannot tell 800 from 13:20, so both are offered when both are times)."""
    whole = int(number)
    meant = []
    if whole == number and 0 <= whole < 24 * 60:
        meant.append(f'"{whole // 60:02d}:{whole % 60:02d}" if you wrote {whole // 60}:{whole % 60:02d}')
    if whole == number and 0 <= whole < 2400 and whole % 100 < 60:
        meant.append(f'"{whole // 100:02d}:{whole % 100:02d}" if you meant {whole}')
    return ", ".join(meant) if meant else '"HH:MM"'


def _a_local_time(value: dt.time) -> dt.time:
    if value.tzinfo is not None:
        raise ValueError("a time without a zone, \"HH:MM\": it is read in rules.yaml's timezone")
    return value


#: A time of day as rules.yaml writes it: "08:00", in quotes, in its `timezone`.
ClockTime = Annotated[dt.time, BeforeValidator(_a_written_time), AfterValidator(_a_local_time)]


class BusinessHours(Strict):
    days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    start: ClockTime = dt.time(9, 0)
    end: ClockTime = dt.time(17, 30)

    @model_validator(mode="after")
    def _start_before_end(self) -> BusinessHours:
        # blind round 27: start 18:00, end 17:30 was accepted, and no mail ever arrived within business hours
        if self.start >= self.end:
            raise ValueError(f"start {self.start:%H:%M} is not before end {self.end:%H:%M}: business hours run from "
                             "start to end within one day")
        return self


class Phrase(Strict):
    """A phrase rule: force or boost a category when any phrase appears."""

    name: str
    category: Literal["revision_request", "billing_issue", "progress_query", "other"]
    match: list[str] = Field(min_length=1)
    effect: Literal["force", "boost"] = "boost"
    weight: float = Field(default=0.3, gt=0, le=1)


class AcknowledgeTiers(Strict):
    """How sure the classifier must be before an acknowledgement says what the request is (see classifiers/tiers)."""

    specific_at_least: float = Field(default=0.9, ge=0, le=1)
    neutral_at_least: float = Field(default=0.9, ge=0, le=1)
    neutral_template: str = "ack_neutral"


class ClassifierSettings(Strict):
    review_below: float = Field(default=0.4, ge=0, le=1)
    acknowledge: AcknowledgeTiers = AcknowledgeTiers()


MAX_WINDOW_MINUTES = 60 * 24 * 366 * 10  # ten years: a window reaching before year 1 broke date arithmetic
MAX_QUIET_DAYS = 366 * 10


class Window(Strict):
    count: int = Field(gt=0, le=1_000_000)
    minutes: int = Field(gt=0, le=MAX_WINDOW_MINUTES)


class Limits(Strict):
    per_sender: list[Window] = [Window(count=3, minutes=10), Window(count=10, minutes=1440)]
    # All senders of one domain together: forged addresses in a client's domain get a few receipts, not one each.
    per_domain: list[Window] = [Window(count=5, minutes=60)]
    bounce_quiet_days: int = Field(default=7, ge=0, le=MAX_QUIET_DAYS)


class AccountOverride(Strict):
    language: Language | None = None
    tone: Literal["friendly", "formal"] | None = None
    extra_recipients: list[str] = []
    tags: list[str] = []


class Replies(Strict):
    language: Language = "en"
    match_client: bool = True  # answer in the language the client wrote in, when it is one of the five and clear
    tone: Literal["friendly", "formal"] = "friendly"
    promise: str | dict[Language, str] | None = None
    signature: str | dict[Language, str] | None = None  # None: each language's own


class Summary(Strict):
    enabled: bool = True
    time: ClockTime = dt.time(8, 0)
    skip_days: list[Weekday] = []
    team_lead: str | None = None


class Learning(Strict):
    """How account managers correct Liaison, and when it retrains on their corrections."""

    folders: dict[Literal["revision_request", "billing_issue", "progress_query", "other", "not_a_client"], str] = {
        "revision_request": "Liaison/Revision request", "billing_issue": "Liaison/Billing issue",
        "progress_query": "Liaison/Progress query", "other": "Liaison/Other", "not_a_client": "Liaison/Not a client"}
    move_back: bool = True          # put a corrected message back where it was, so nobody loses it
    nightly_retrain: bool = False   # retrain at night on the corrections; promoted only if it is no worse
    retrain_after: int = Field(default=20, ge=1)  # ...and only once this many corrections exist
    retrain_time: ClockTime = dt.time(2, 30)


class RuleComponent(Protocol):
    """A condition or an action that rules.yaml may name (as Mailman has rules and handlers).

    The components themselves live in responders/conditions and responders/actions, one module
    each; they register here so that the schema below knows their names and the values they take."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def value(self) -> object:
        """The type of the value rules.yaml gives it, checked when the file is loaded."""


ComponentT = TypeVar("ComponentT", bound=RuleComponent)


class Registry(Generic[ComponentT]):
    """The components of one kind, by name, in the order they were registered."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._components: dict[str, ComponentT] = {}
        self.version = 0  # the rules schema is rebuilt when it changes

    def register(self, component: ComponentT) -> ComponentT:
        known = self._components.get(component.name)
        if known is not None and type(known) is not type(component):
            raise ValueError(f"{self.kind} {component.name!r} is registered already, by {type(known).__name__}")
        self._components[component.name] = component
        self.version += 1
        return component

    def __getitem__(self, name: str) -> ComponentT:
        return self._components[name]

    def __contains__(self, name: object) -> bool:
        return name in self._components

    def names(self) -> list[str]:
        return list(self._components)

    def all(self) -> list[ComponentT]:
        return list(self._components.values())


CONDITIONS: Registry[RuleComponent] = Registry("condition")
ACTIONS: Registry[RuleComponent] = Registry("action")


def known_category(value: OneOrMany) -> OneOrMany:
    """A `category` condition's value: our categories, or needs_review."""
    for item in [value] if isinstance(value, str) else value:
        if item not in (*CATEGORIES, "needs_review"):
            raise ValueError(f"unknown category {item!r}; expected one of {', '.join(CATEGORIES)}")
    return value


def known_entities(value: OneOrMany) -> OneOrMany:
    """An `entity` condition's value: names the entity matcher finds (a misspelt one would never hold)."""
    for item in [value] if isinstance(value, str) else value:
        if item not in ENTITIES:
            raise ValueError(f"unknown entity {item!r}; expected one of {', '.join(ENTITIES)}")
    return value


def valid_patterns(value: dict[str, str]) -> dict[str, str]:
    """Regular expressions that compile, each under a known entity's name."""
    known_entities(list(value))
    for pattern in value.values():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    return value


class Condition(Strict):
    """Every condition given must hold (AND); list values mean any of them (OR). Its fields are the
    registered conditions (see `schema`)."""


class Action(Strict):
    """One thing to do. Exactly one of the verbs (the registered actions) is set."""

    template: str | None = None  # goes with escalate

    @model_validator(mode="before")
    @classmethod
    def _bare_word(cls, value: Any) -> Any:
        # "- stop", "- suppress", "- review" are allowed as bare words.
        if isinstance(value, str):
            return {value: True}
        return value

    @model_validator(mode="after")
    def _one_verb(self) -> Action:
        names = ACTIONS.names()
        verbs = [v for v in names if getattr(self, v, None) not in (None, False)]
        if len(verbs) != 1:
            raise ValueError(f"an action needs exactly one of {', '.join(names)} (found {', '.join(verbs) or 'none'})")
        if self.template and not getattr(self, "escalate", None):
            raise ValueError("'template' goes with 'escalate'")
        return self

    @property
    def verb(self) -> str:
        for verb in ACTIONS.names():
            if getattr(self, verb, None) not in (None, False):
                return verb
        raise AssertionError("validated action without a verb")

    def given(self) -> Any:
        """The value rules.yaml gave this action's verb."""
        return getattr(self, self.verb)

    def recipients(self) -> list[str]:
        escalate = getattr(self, "escalate", None)
        return [escalate] if isinstance(escalate, str) else list(escalate or [])


class Rule(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    when: Condition = Condition()
    then: Annotated[list[Action], Field(min_length=1)]


class RulesFile(Strict):
    version: Literal[1] = 1
    mode: Literal["live", "shadow"] = "live"
    timezone: str = "UTC"
    templates: str | None = None
    business_hours: BusinessHours = BusinessHours()
    addresses: dict[str, str] = {}
    classifier: ClassifierSettings = ClassifierSettings()
    phrases: list[Phrase] = []
    limits: Limits = Limits()
    replies: Replies = Replies()
    accounts: dict[str, AccountOverride] = {}
    summary: Summary = Summary()
    backfill: str = "none"  # mail already in the folder at first start: none, all, or a duration (24h, 7d)
    learning: Learning = Learning()
    rules: list[Rule] = Field(min_length=1)

    @field_validator("backfill")
    @classmethod
    def _backfill(cls, value: str) -> str:
        backfill_window(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("addresses")
    @classmethod
    def _addresses(cls, value: dict[str, str]) -> dict[str, str]:
        for name, address in value.items():
            if SECRET_WORDS.search(name):
                raise ValueError(f"{name}: {SECRET_HINT}")
            if not _EMAIL.match(address):
                raise ValueError(f"{name}: not an email address: {address!r}")
            if name in ROLE_RECIPIENTS:
                raise ValueError(f"{name!r} is a built-in recipient and cannot be redefined")
        return value


_DURATION = re.compile(r"^(\d+)\s*(m|h|d|w)$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def backfill_window(value: str) -> dt.timedelta | None:
    """How far back mail found at first start is answered: None for `all`, zero for `none`."""
    text = str(value).strip().lower()
    if text == "all":
        return None
    if text == "none":
        return dt.timedelta(0)
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"backfill must be none, all or a duration such as 24h or 7d, not {value!r}")
    return dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


_SCHEMAS: dict[tuple[int, int], type[RulesFile]] = {}


def schema() -> type[RulesFile]:
    """The rules file model with the registered conditions and actions as its `when` and `then` keys."""
    key = (CONDITIONS.version, ACTIONS.version)
    if key not in _SCHEMAS:
        if not CONDITIONS.names() or not ACTIONS.names():
            raise RulesError(["no routing conditions or actions are registered: import responders first"])
        when: Any = create_model("Condition", __base__=Condition, **_optional_fields(CONDITIONS))
        then: Any = create_model("Action", __base__=Action, **_optional_fields(ACTIONS))
        rule: Any = create_model("Rule", __base__=Rule, when=(when, when()),
                                 then=(Annotated[list[then], Field(min_length=1)], ...))
        _SCHEMAS[key] = create_model("RulesFile", __base__=RulesFile, rules=(list[rule], Field(min_length=1)))
    return _SCHEMAS[key]


def _optional_fields(registry: Registry[RuleComponent]) -> dict[str, Any]:
    """Each component as an optional field of the value type it registered (a run-time value, which
    a type checker cannot follow)."""
    return {c.name: (Optional[c.value], None) for c in registry.all()}  # type: ignore[valid-type]  # noqa: UP045


class Rules:
    """A validated rules file and where it came from."""

    def __init__(self, spec: RulesFile, path: Path, cautions: list[str] | None = None) -> None:
        self.spec = spec
        self.path = path
        self.cautions = cautions or []  # FILE:LINE:COL: what is allowed but likely a mistake (`rules check`, reload)

    @property
    def template_dir(self) -> Path | None:
        if not self.spec.templates:
            return None
        return (self.path.parent / self.spec.templates).resolve()

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.spec.timezone)

    def override(self, account_id: str | None) -> AccountOverride:
        return self.spec.accounts.get(account_id or "", AccountOverride())


def load_rules(path: Path | str, *, template_names: set[str] | None = None,
               account_ids: set[str] | None = None) -> Rules:
    """Load and check a rules file; raise RulesError listing every problem with its position."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError([f"{path}:1:1: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise RulesError([f"{path}:1:1: not UTF-8 text: {exc.reason}"]) from None
    return parse_rules(text, path, template_names=template_names, account_ids=account_ids)


def parse_rules(text: str, path: Path, *, template_names: set[str] | None = None,
                account_ids: set[str] | None = None) -> Rules:
    root = _compose(text, path)
    data = _construct(root, path)
    try:
        spec = schema().model_validate(data)
    except ValidationError as exc:
        raise RulesError(sorted(_located(path, root, error) for error in exc.errors())) from None
    problems = _semantic_problems(spec, root, path, template_names, account_ids)
    if problems:
        raise RulesError(problems)
    return Rules(spec, path, _cautions(spec, root, path))


CATEGORY_TEMPLATES = {f"ack_{c}": c for c in ("revision_request", "billing_issue", "progress_query")}


def _cautions(spec: RulesFile, root: yaml.Node, path: Path) -> list[str]:
    """What a careless edit does that is allowed but surely unmeant: a category's acknowledgement sent by a rule
    that lets other categories through (blind round 22: a rule with no `when` thanked an invoice dispute for
    "checking in")."""
    cautions = []
    for i, rule in enumerate(spec.rules):
        wanted = getattr(rule.when, "category", None)
        categories = {wanted} if isinstance(wanted, str) else set(wanted or [])
        for j, action in enumerate(rule.then):
            own = CATEGORY_TEMPLATES.get(action.given()) if action.verb == "acknowledge" else None
            if own and categories != {own}:
                mark = _walk(root, ["rules", i, "then", j])[0].start_mark
                others = "every category" if not categories else ", ".join(sorted(categories - {own}))
                cautions.append(f"{path}:{mark.line + 1}:{mark.column + 1}: rule {rule.name!r} acknowledges with "
                                f"{action.given()} but matches {others}: those clients would be thanked for a "
                                f"{own.replace('_', ' ')}; add `category: {own}` to its `when`")
    return cautions


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that also refuses what safe loading lets through or dies on: explicit tags
    (`!include`, `!!python/...`, `!!int live`) and a key given twice in one mapping. Each such
    problem is noted with its position; the whole file is reported at once."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.problems: list[tuple[yaml.Mark, str]] = []

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        tag = getattr(event, "tag", None)
        if tag is not None:  # only an explicit tag sets it; plain values are resolved later
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            self.problems.append((event.start_mark, f"YAML tags are not allowed: {shown}"))
        return super().compose_node(parent, index)  # type: ignore[return-value]

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:  # PyYAML passes the anchor's name
        node = super().compose_mapping_node(anchor)
        seen: set[tuple[str, str]] = set()
        for key, _value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            if (key.tag, key.value) in seen:
                self.problems.append((key.start_mark, f"duplicate key {key.value!r}"))
            seen.add((key.tag, key.value))
        return node  # type: ignore[no-any-return]

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # A value the safe constructor cannot build (a date like 2026-13-45) is a located error.
        try:
            return super().construct_object(node, deep=deep)
        except yaml.MarkedYAMLError:
            raise
        except (ValueError, TypeError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(None, None, f"invalid value: {exc}", node.start_mark) from None


def _compose(text: str, path: Path) -> yaml.Node:
    loader = _StrictLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = str(exc.problem or exc)
        if "'\\t'" in problem:  # PyYAML's words for a tab in the indentation (blind round 24)
            problem += ": a tab; YAML indents with spaces only"
        raise RulesError([f"{path}:{line}:{column}: YAML syntax error: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise RulesError([f"{path}:1:1: YAML error: {exc}"]) from None
    except RecursionError:
        raise RulesError([f"{path}:1:1: YAML error: nested too deeply"]) from None
    finally:
        loader.dispose()
    if loader.problems:
        raise RulesError([f"{path}:{m.line + 1}:{m.column + 1}: {problem}"
                          for m, problem in sorted(loader.problems, key=lambda p: p[0].index)])
    if not isinstance(root, yaml.MappingNode):
        raise RulesError([f"{path}:1:1: the rules file must be a mapping with a 'rules' list"])
    return root


def _construct(root: yaml.Node, path: Path) -> Any:
    """Plain Python data from the checked nodes (no second parse of the text)."""
    loader = _StrictLoader("")
    try:
        return loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise RulesError([f"{path}:{line}:{column}: {exc.problem or exc}"]) from None
    except RecursionError:
        raise RulesError([f"{path}:1:1: YAML error: nested too deeply"]) from None
    finally:
        loader.dispose()


def _located(path: Path, root: yaml.Node, error: Any) -> str:
    loc = [part for part in error["loc"] if not _is_union_tag(part)]
    node, key_node = _walk(root, loc)
    mark = (key_node if error["type"] == "extra_forbidden" and key_node else node).start_mark
    where = ".".join(str(p) for p in loc) or "(top)"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}{_did_you_mean(loc)}"
    if (any(SECRET_WORDS.search(str(part)) for part in loc) or _holds_secret(node)) and SECRET_HINT not in message:
        # its value is never quoted: the message goes to the log, `status` and the team lead's summary (round 26)
        message = SECRET_HINT
    return f"{path}:{mark.line + 1}:{mark.column + 1}: {where}: {message}"


def _holds_secret(node: yaml.Node | None) -> bool:
    """A mapping with a key that names a secret, at any depth (`imap: {password: ...}`)."""
    if not isinstance(node, yaml.MappingNode):
        return False
    return any(SECRET_WORDS.search(str(key.value)) or _holds_secret(value) for key, value in node.value)


def _did_you_mean(loc: list[Any]) -> str:
    """" (did you mean 'business_hours'?)" for a misspelt key: the closest of the keys that place knows (blind
    round 24: liaison.toml suggested one, rules.yaml did not)."""
    if len(loc) == 1:
        known = set(RulesFile.model_fields)
    elif "when" in loc[:-1]:
        known = set(CONDITIONS.names())
    elif "then" in loc[:-1]:
        known = set(ACTIONS.names())
    else:
        known = {name for model in _models(RulesFile) for name in model.model_fields}
    close = difflib.get_close_matches(str(loc[-1]), sorted(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """A model and every model its fields hold, through lists, mappings and unions."""
    found, todo = [], [model]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.append(current)
        for field in current.model_fields.values():
            todo += [arg for arg in _inner_types(field.annotation)
                     if isinstance(arg, type) and issubclass(arg, BaseModel)]
    return found


def _inner_types(annotation: Any) -> list[Any]:
    args = get_args(annotation)
    return [annotation] if not args else [inner for arg in args for inner in _inner_types(arg)]


def _is_union_tag(part: Any) -> bool:
    # pydantic adds the union member ("str", "list[str]", "function-before[...]") to error paths.
    return isinstance(part, str) and ("[" in part or part in ("str", "bool", "int", "float"))


def _walk(node: yaml.Node, loc: list[Any]) -> tuple[yaml.Node, yaml.Node | None]:
    """Follow an error location through the YAML nodes as far as it goes."""
    key_node = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    key_node, node = key, value
                    break
            else:
                return node, key_node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node, key_node = node.value[part], None
        else:
            return node, key_node
    return node, key_node


def _semantic_problems(spec: RulesFile, root: yaml.Node, path: Path, template_names: set[str] | None,
                       account_ids: set[str] | None) -> list[str]:
    problems: list[str] = []

    def report(loc: list[str | int], message: str) -> None:
        mark = _walk(root, loc)[0].start_mark
        problems.append(f"{path}:{mark.line + 1}:{mark.column + 1}: {'.'.join(map(str, loc))}: {message}")

    if spec.templates and not (path.parent / spec.templates).is_dir():
        report(["templates"], f"no folder {spec.templates!r} next to this file")
    seen: set[str] = set()
    catch_all: str | None = None
    for i, rule in enumerate(spec.rules):
        if rule.name in seen:
            report(["rules", i, "name"], f"duplicate rule name {rule.name!r}")
        seen.add(rule.name)
        if catch_all:
            report(["rules", i], f"unreachable: rule {catch_all!r} above matches everything and stops")
        if not rule.when.model_fields_set and any(a.verb == "stop" for a in rule.then):
            catch_all = rule.name
        for j, action in enumerate(rule.then):
            _check_action(action, ["rules", i, "then", j], spec, template_names, report)
        for key in ("account",):
            wanted = getattr(rule.when, key, None)
            for account in [wanted] if isinstance(wanted, str) else wanted or []:
                if account_ids is not None and account not in account_ids:
                    report(["rules", i, "when", key], f"unknown account {account!r}")
    if account_ids is not None:
        for account in spec.accounts:
            if account not in account_ids:
                report(["accounts", account], f"unknown account {account!r}: accounts are named by their "
                                              "account_id (the first column of accounts.csv), not their code")
    tiers = spec.classifier.acknowledge
    # Only a name the user gave: the shipped one always exists (the shipped templates are always in reach).
    if template_names is not None and "neutral_template" in tiers.model_fields_set \
            and tiers.neutral_template not in template_names:
        report(["classifier", "acknowledge", "neutral_template"],
               f"unknown template {tiers.neutral_template!r}{TEMPLATE_HINT}")
    if spec.summary.team_lead and spec.summary.team_lead not in spec.addresses \
            and not _EMAIL.match(spec.summary.team_lead):
        report(["summary", "team_lead"], f"unknown address name {spec.summary.team_lead!r}")
    return problems


# A template is found only as a pair (blind tester round 18: a custom template with its .txt alone was "unknown").
TEMPLATE_HINT = (" (a template of your own is a pair of files, LANG/NAME.txt and LANG/NAME.html, in the templates "
                 "folder; a shipped one may be overridden by either)")


def _check_action(action: Action, loc: list[Any], spec: RulesFile, template_names: set[str] | None,
                  report: Any) -> None:
    if action.verb == "escalate":
        for name in action.recipients():
            if name not in ROLE_RECIPIENTS and name not in spec.addresses and not _EMAIL.match(name):
                close = difflib.get_close_matches(name, sorted({*ROLE_RECIPIENTS, *spec.addresses}), n=1, cutoff=0.75)
                report([*loc, "escalate"], f"unknown recipient {name!r}: " + (
                    f"did you mean {close[0]!r}?" if close else "name it under 'addresses'"))
    template = action.given() if action.verb == "acknowledge" else action.template
    if template is not None:
        if not _TEMPLATE_NAME.match(template):
            report(loc, f"invalid template name {template!r}")
        elif template_names is not None and template not in template_names:
            close = difflib.get_close_matches(template, sorted(template_names), n=1, cutoff=0.75)
            hint = f" (did you mean {close[0]!r}?)" if close else TEMPLATE_HINT
            report(loc, f"unknown template {template!r}{hint}")


def default_rules_path() -> Path:
    """The shipped rules.yaml: packaged next to this module in a wheel, at the repo root in a checkout."""
    packaged = Path(__file__).parent / "default_rules.yaml"
    return packaged if packaged.exists() else Path(__file__).parent.parent / "rules.yaml"
