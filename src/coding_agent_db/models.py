"""msgspec models: what goes into the database and what comes out.

Per table there is a row model (``Task``: what a query returns) and an insert
model (``NewTask``: defaults and constraints). Constraints are ``msgspec.Meta``
annotations and ``Literal`` enums; the enums are the very values of the
tables' CHECK constraints (a test compares them).

Struct construction does not check types, so the boundary (``boundary``)
runs every insert model a public function takes through ``convert()`` before
any SQL is sent. The ``Annotated`` aliases below are the constraints of both
the models' fields and the functions' parameters.

Encrypted columns never appear in a row model. Listings show a masked preview
(``sk-ant-...a1b2``); plaintext comes only from the explicit calls that hand
a secret to its consumer (``get_user_tokens``, ``reveal_keys``,
``get_connector_launch``), in models whose ``repr()`` hides it.

JSON documents stored in jsonb columns (log entries, sub-agent activity) use
the camelCase keys the TypeScript app reads and writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, ClassVar, Literal, TypeVar, get_args

import msgspec
from msgspec import Meta

from coding_agent_db.errors import ValidationError

__all__ = [
    "Account",
    "AccountProvider",
    "AgentSource",
    "ApiKey",
    "ApiToken",
    "ApiTokenCursor",
    "AuthProvider",
    "Connector",
    "ConnectorLaunch",
    "ConnectorStatus",
    "ConnectorType",
    "CreatedApiToken",
    "GitHubConnection",
    "GitHubToken",
    "KeyProvider",
    "LogEntry",
    "LogType",
    "Lookup",
    "LookupText",
    "MessageRole",
    "Model",
    "NewAccount",
    "NewConnector",
    "NewTask",
    "NewUser",
    "OAuthTokens",
    "PgInteger",
    "PostgresUrl",
    "PrStatus",
    "RateLimit",
    "RevealedKeys",
    "RowId",
    "SelectedAgent",
    "Setting",
    "SettingName",
    "Shallow",
    "SubAgentActivity",
    "SubAgentStatus",
    "Task",
    "TaskCursor",
    "TaskMessage",
    "TaskStatus",
    "TaskSummary",
    "TokenSource",
    "User",
    "UserId",
    "Within",
    "literal_values",
    "read_documents",
    "unstorable_field",
    "validated",
]

# Enumerations, shared with the CHECK constraints of migrations/.
AuthProvider = Literal["github", "vercel"]
AccountProvider = Literal["github"]
KeyProvider = Literal["anthropic", "openai", "cursor", "gemini", "aigateway", "github"]
SelectedAgent = Literal["claude", "codex", "copilot", "cursor", "gemini", "opencode"]
TaskStatus = Literal["pending", "processing", "completed", "error", "stopped"]
PrStatus = Literal["open", "closed", "merged"]
MessageRole = Literal["user", "agent"]
ConnectorType = Literal["local", "remote"]
ConnectorStatus = Literal["connected", "disconnected"]
LogType = Literal["info", "command", "error", "success", "subagent"]
SubAgentStatus = Literal["starting", "running", "completed", "error"]
TokenSource = Literal["account", "user", "key"]

# Markers for the boundary (see ``boundary``), in ``Annotated`` next to msgspec's ``Meta``.


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


Lookup = _Marker("Lookup")
"""The parameter names a row: a value no row can have is answered as a missing row."""

Shallow = _Marker("Shallow")
"""Only the shape (Struct instances) is checked at the boundary; the function checks the rest."""


@dataclass(frozen=True)
class Within:
    """Bounds for values ``Meta`` cannot bound (durations)."""

    low: Any
    high: Any


# Constrained scalars of the insert models.
Text = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"\S")]
"""A required, non-blank short text: names, usernames, external ids."""
OptionalText = Annotated[str, Meta(max_length=200)]
LongText = Annotated[str, Meta(max_length=10_000)]
Prompt = Annotated[str, Meta(min_length=1, max_length=100_000, pattern=r"\S")]
Url = Annotated[str, Meta(max_length=2048, pattern=r"^https?://[^\s/?#]+[^\s]*$")]
Email = Annotated[str, Meta(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
Secret = Annotated[str, Meta(min_length=1, max_length=10_000)]
Id = Annotated[str, Meta(min_length=1, max_length=64)]
EnvName = Annotated[str, Meta(max_length=200, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Command = Annotated[str, Meta(min_length=1, max_length=4096, pattern=r"\S")]
SettingKey = Annotated[str, Meta(max_length=100, pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")]
SettingValue = Annotated[str, Meta(min_length=1, max_length=10_000)]
MessageContent = Annotated[str, Meta(min_length=1, max_length=100_000, pattern=r"\S")]
Minutes = Annotated[int, Meta(ge=1, le=1440)]
GitRef = Annotated[str, Meta(min_length=1, max_length=255, pattern=r"^[^\s~^:?*\[\\]+$")]
CommitSha = Annotated[str, Meta(pattern=r"^[0-9a-f]{7,64}$")]
Percent = Annotated[int, Meta(ge=0, le=100)]
TaskId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
"""A caller-supplied task id: URL-safe characters, like the generated ones."""
SubAgentName = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"\S")]
SubAgentDescription = Annotated[str, Meta(max_length=500)]
PrNumber = Annotated[int, Meta(ge=1, le=2**31 - 1)]
"""A pull request number (a PostgreSQL ``integer`` column)."""
PgInteger = Annotated[int, Meta(ge=-(2**31), le=2**31 - 1)]
"""A PostgreSQL ``integer``."""

PostgresUrl = Annotated[str, Meta(max_length=4096, pattern=r"^postgres(?:ql)?://")]

# Parameters naming rows (ids a stranger controls, e.g. from a URL). Ours are
# 21 characters, the TypeScript app's nanoids too; 255 leaves room for ids
# written by hand, and anything longer names no row.
UserId = Annotated[str, Meta(min_length=1, max_length=255), Lookup]
RowId = Annotated[str, Meta(min_length=1, max_length=255), Lookup]
LookupText = Annotated[Text, Lookup]
"""A provider identity or other short text that names a row when looked up."""
SettingName = Annotated[SettingKey, Lookup]


class Model(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of the row and insert models.

    - ``frozen``: models are values; a changed row is a new object.
    - ``kw_only``: fields are named at every call site, so adding a column
      never shifts a positional argument. msgspec does not inherit this
      option (and type checkers do not inherit ``frozen``), so every model
      class repeats both.
    - ``forbid_unknown_fields``: a misspelt field in input is an error, not
      silently dropped.
    - ``__secret_fields__``: fields whose values ``repr()`` (and ``rich``)
      replace with ``'<redacted>'``, so secrets stay out of logs and tracebacks.
    """

    __secret_fields__: ClassVar[frozenset[str]] = frozenset()

    def _shown_fields(self) -> Iterator[tuple[str, Any]]:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if name in self.__secret_fields__ and value is not None:
                value = "<redacted>"
            yield name, value

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self._shown_fields())
        return f"{type(self).__name__}({fields})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        """What ``rich`` prints (msgspec's own would show every field)."""
        return list(self._shown_fields())


class Document(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """Base of JSON documents stored in jsonb (camelCase keys, like the TypeScript app).

    Unknown keys are ignored rather than refused: documents the TypeScript
    app wrote must stay readable.
    """


# ---------------------------------------------------------------- users


class User(Model, frozen=True, kw_only=True):
    """A row of ``users``. The OAuth tokens come only from ``get_user_tokens``."""

    id: str
    provider: AuthProvider
    external_id: str
    scope: str | None
    username: str
    email: str | None
    name: str | None
    avatar_url: str | None
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime


class NewUser(Model, frozen=True, kw_only=True):
    """A sign-in: the provider identity, its OAuth tokens and the profile."""

    __secret_fields__ = frozenset({"access_token", "refresh_token"})

    provider: AuthProvider
    external_id: Text
    access_token: Secret
    refresh_token: Secret | None = None
    scope: OptionalText | None = None
    username: Text
    email: Email | None = None
    name: OptionalText | None = None
    avatar_url: Url | None = None


class OAuthTokens(Model, frozen=True, kw_only=True):
    """Decrypted OAuth tokens of a user or a linked account."""

    __secret_fields__ = frozenset({"access_token", "refresh_token"})

    access_token: str
    refresh_token: str | None
    scope: str | None
    expires_at: datetime | None = None


class GitHubToken(Model, frozen=True, kw_only=True):
    """The GitHub token an agent uses for a user, and where it came from.

    ``source``: ``account`` (the linked GitHub account), ``user`` (the user
    signed in with GitHub) or ``key`` (a ``github`` personal access token).
    """

    __secret_fields__ = frozenset({"token"})

    token: str
    source: TokenSource


# ---------------------------------------------------------------- accounts


class Account(Model, frozen=True, kw_only=True):
    """A row of ``accounts``. The OAuth tokens come only from ``get_account_tokens``."""

    id: str
    user_id: str
    provider: AccountProvider
    external_user_id: str
    expires_at: datetime | None
    scope: str | None
    username: str
    created_at: datetime
    updated_at: datetime


class GitHubConnection(Model, frozen=True, kw_only=True):
    """The result of ``connect_github_account``: the link, and the user merged away (if any)."""

    account: Account
    merged_user_id: str | None


class NewAccount(Model, frozen=True, kw_only=True):
    """An OAuth account to link to a user."""

    __secret_fields__ = frozenset({"access_token", "refresh_token"})

    provider: AccountProvider = "github"
    external_user_id: Text
    access_token: Secret
    refresh_token: Secret | None = None
    expires_at: datetime | None = None
    scope: OptionalText | None = None
    username: Text


# ---------------------------------------------------------------- keys


class ApiKey(Model, frozen=True, kw_only=True):
    """A row of ``keys`` as shown to a person: a masked preview, never the key.

    ``unreadable`` marks a stored value that failed to decrypt (altered, moved
    from another row, or under an unknown key); its ``preview`` is then None.
    """

    id: str
    user_id: str
    provider: KeyProvider
    preview: str | None
    unreadable: bool
    created_at: datetime
    updated_at: datetime


class NewKey(Model, frozen=True, kw_only=True):
    """An API key to store (validation of ``set_key``'s arguments)."""

    __secret_fields__ = frozenset({"value"})

    provider: KeyProvider
    value: Secret


class RevealedKeys(Model, frozen=True, kw_only=True):
    """A user's decrypted API keys, for an agent run.

    ``unreadable`` names the providers whose stored key failed to decrypt.
    """

    __secret_fields__ = frozenset({"values"})

    values: dict[KeyProvider, str]
    unreadable: tuple[KeyProvider, ...]


# ---------------------------------------------------------------- tasks


class AgentSource(Document, frozen=True, kw_only=True):
    """Which agent wrote a log entry (``agentSource`` in JSON)."""

    name: str
    is_sub_agent: bool = False
    parent_agent: str | None = None
    sub_agent_id: str | None = None


class LogEntry(Document, frozen=True, kw_only=True):
    """One line of a task's log.

    Once stored, ``message`` is at most ``MAX_LOG_MESSAGE_LENGTH`` characters
    (longer ones are truncated with a visible marker) and secrets in it are
    redacted. ``timestamp`` is filled in on append when left out.
    """

    type: LogType
    message: str
    timestamp: datetime | None = None
    agent_source: AgentSource | None = None


class SubAgentActivity(Document, frozen=True, kw_only=True):
    """One sub-agent of a task run: an element of ``tasks.sub_agent_activity``.

    ``type`` is the app's optional classification of the sub-agent, kept as
    written.
    """

    id: str
    name: str
    type: str | None = None
    status: SubAgentStatus = "running"
    parent_agent: str | None = None
    description: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


class TaskSummary(Model, frozen=True, kw_only=True):
    """A row of ``tasks`` without its log, as listed."""

    id: str
    user_id: str
    prompt: str
    title: str | None
    repo_url: str | None
    selected_agent: SelectedAgent
    selected_model: str | None
    install_dependencies: bool
    max_duration: int
    keep_alive: bool
    enable_browser: bool
    status: TaskStatus
    progress: int
    error: str | None
    branch_name: str | None
    source_branch: str | None
    sandbox_id: str | None
    agent_session_id: str | None
    sandbox_url: str | None
    preview_url: str | None
    pr_url: str | None
    pr_number: int | None
    pr_status: PrStatus | None
    pr_merge_commit_sha: str | None
    mcp_server_ids: list[str] | None
    sub_agent_activity: list[SubAgentActivity] | None
    current_sub_agent: str | None
    last_heartbeat: datetime | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    deleted_at: datetime | None

    @property
    def cursor(self) -> TaskCursor:
        """Pass as ``before=`` to list the tasks older than this one."""
        return TaskCursor(created_at=self.created_at, id=self.id)


class Task(TaskSummary, frozen=True, kw_only=True):
    """A whole row of ``tasks``, log included."""

    logs: list[LogEntry] | None


class TaskCursor(Model, frozen=True, kw_only=True):
    """Keyset position in a user's newest-first task list."""

    created_at: datetime
    id: str


class NewTask(Model, frozen=True, kw_only=True):
    """A task to create; it starts ``pending``.

    ``id`` may be chosen by the caller (the app lets a client pick it); it must
    not be in use. Left out, one is generated.
    """

    id: TaskId | None = None
    prompt: Prompt
    title: LongText | None = None
    repo_url: Url | None = None
    selected_agent: SelectedAgent = "claude"
    selected_model: OptionalText | None = None
    install_dependencies: bool = False
    max_duration: Minutes = 300
    keep_alive: bool = False
    enable_browser: bool = False
    mcp_server_ids: list[Id] = []


class TaskChanges(Model, frozen=True, kw_only=True):
    """Validation of the task update functions' arguments (each sets a few of these)."""

    title: LongText | None = None
    status: TaskStatus | None = None
    progress: Percent | None = None
    error: LongText | None = None
    branch_name: GitRef | None = None
    source_branch: GitRef | None = None
    sandbox_id: OptionalText | None = None
    sandbox_url: Url | None = None
    preview_url: Url | None = None
    agent_session_id: OptionalText | None = None
    pr_url: Url | None = None
    pr_number: PrNumber | None = None
    pr_status: PrStatus | None = None
    pr_merge_commit_sha: CommitSha | None = None
    sub_agent_activity: list[SubAgentActivity] | None = None
    current_sub_agent: OptionalText | None = None
    mcp_server_ids: list[Id] | None = None


class SubAgentChanges(Model, frozen=True, kw_only=True):
    """Validation of the sub-agent functions' arguments (each sets a few of these)."""

    sub_agent_id: Id | None = None
    name: SubAgentName | None = None
    description: SubAgentDescription | None = None
    parent_agent: SubAgentName | None = None
    status: SubAgentStatus | None = None


class RateLimit(Model, frozen=True, kw_only=True):
    """A user's daily allowance of tasks + user messages (UTC day)."""

    allowed: bool
    remaining: int
    used: int
    total: int
    reset_at: datetime


# ---------------------------------------------------------------- task_messages


class NewMessage(Model, frozen=True, kw_only=True):
    """Validation of a user message's content."""

    content: MessageContent


class TaskMessage(Model, frozen=True, kw_only=True):
    """A row of ``task_messages``.

    ``completed_at`` is None while an agent reply streams (its ``content`` is
    then shown redacted as a whole); user messages are complete when sent.
    """

    id: str
    task_id: str
    user_id: str
    role: MessageRole
    content: str
    created_at: datetime
    completed_at: datetime | None = None


# ---------------------------------------------------------------- connectors


class Connector(Model, frozen=True, kw_only=True):
    """A row of ``connectors`` as shown to a person.

    ``env`` maps each variable to a masked preview of its value;
    ``has_oauth_client_secret`` says whether a secret is stored.
    ``unreadable`` marks stored secrets that failed to decrypt.
    """

    id: str
    user_id: str
    name: str
    description: str | None
    type: ConnectorType
    base_url: str | None
    oauth_client_id: str | None
    has_oauth_client_secret: bool
    command: str | None
    env: dict[str, str]
    unreadable: bool
    status: ConnectorStatus
    created_at: datetime
    updated_at: datetime


class NewConnector(Model, frozen=True, kw_only=True):
    """An MCP server: ``local`` needs a ``command``, ``remote`` a ``base_url``."""

    __secret_fields__ = frozenset({"oauth_client_secret", "env"})

    name: Text
    description: LongText | None = None
    type: ConnectorType = "remote"
    base_url: Url | None = None
    oauth_client_id: OptionalText | None = None
    oauth_client_secret: Secret | None = None
    command: Command | None = None
    env: dict[EnvName, LongText] | None = None
    status: ConnectorStatus = "connected"


class ConnectorLaunch(Model, frozen=True, kw_only=True):
    """What starting an MCP server needs, secrets decrypted."""

    __secret_fields__ = frozenset({"oauth_client_secret", "env"})

    id: str
    name: str
    type: ConnectorType
    base_url: str | None
    command: str | None
    oauth_client_id: str | None
    oauth_client_secret: str | None
    env: dict[str, str]


# ---------------------------------------------------------------- settings


class Setting(Model, frozen=True, kw_only=True):
    """A row of ``settings``."""

    id: str
    user_id: str
    key: str
    value: str
    created_at: datetime
    updated_at: datetime


class NewSetting(Model, frozen=True, kw_only=True):
    """Validation of ``set_setting``'s arguments."""

    key: SettingKey
    value: SettingValue


# ---------------------------------------------------------------- api_tokens


class ApiToken(Model, frozen=True, kw_only=True):
    """A row of ``api_tokens`` as listed: never the hash, never the raw token."""

    id: str
    user_id: str
    name: str
    token_prefix: str
    last_used_at: datetime | None
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def cursor(self) -> ApiTokenCursor:
        """Pass as ``before=`` to list the tokens older than this one."""
        return ApiTokenCursor(created_at=self.created_at, id=self.id)


class ApiTokenCursor(Model, frozen=True, kw_only=True):
    """Keyset position in a user's newest-first token list."""

    created_at: datetime
    id: str


class NewApiToken(Model, frozen=True, kw_only=True):
    """Validation of ``create_api_token``'s arguments."""

    name: Text
    expires_at: datetime | None = None


class CreatedApiToken(Model, frozen=True, kw_only=True):
    """A new token's record and its raw value: the only time the raw token exists."""

    __secret_fields__ = frozenset({"raw_token"})

    token: ApiToken
    raw_token: str


# ---------------------------------------------------------------- validation

M = TypeVar("M", bound=msgspec.Struct)

_ERROR_PATH = re.compile(
    r"^(?P<message>.*?)(?: - at (?:`key` in )?`\$\.?(?P<path>[^`]*)`)?$", re.DOTALL
)
_QUOTED_VALUE = re.compile(r"^(Invalid enum value) .*$", re.DOTALL)
UNSTORABLE = "contains a character PostgreSQL cannot store (NUL or an unpaired surrogate)"


def validation_error(exc: Exception) -> ValidationError:
    """Our ValidationError for msgspec's, naming the field; the value is never quoted."""
    match = _ERROR_PATH.match(str(exc))
    assert match is not None  # the pattern matches every string
    message = _QUOTED_VALUE.sub(r"\1", match["message"])
    return ValidationError(match["path"] or "<input>", message)


def is_storable(text: str) -> bool:
    """Whether PostgreSQL text can hold ``text`` (no NUL, valid UTF-8 once encoded)."""
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def storable_text(text: str) -> str:
    """``text`` with what PostgreSQL cannot store (NUL, unpaired surrogates) replaced by U+FFFD."""
    if is_storable(text):
        return text
    text = text.replace("\x00", "\ufffd")
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def unstorable_field(value: Any, path: str) -> str | None:
    """The path of the first value in ``value`` PostgreSQL cannot store, or None.

    Strings with NUL or an unpaired surrogate, and aware datetimes that do
    not convert to UTC (timestamptz is stored in UTC).
    """
    if isinstance(value, str):
        return None if is_storable(value) else path
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            try:
                value.astimezone(UTC)
            except OverflowError:
                return path
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or is_storable(key):
                found = unstorable_field(item, f"{path}.{key}" if path else str(key))
            else:
                found = path  # the key itself (not repeated in the path)
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = unstorable_field(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


_AS_IS = (bytes, bytearray, memoryview, datetime, date, time, timedelta)
"""Kept as they are by ``to_builtins`` and ``convert``: bytes are never text, text never a date."""


def convert(value: Any, type_: type[M]) -> M:
    """``value`` (a Struct, or a dict of arguments) checked against ``type_``.

    Nested Structs are checked too (they pass through ``to_builtins`` first),
    and so is every string: one PostgreSQL cannot store is refused here
    rather than by the server. Raises ValidationError naming the first
    offending field.
    """
    try:
        builtins = msgspec.to_builtins(value, builtin_types=_AS_IS)
    except (TypeError, UnicodeEncodeError) as exc:
        raise validation_error(exc) from None
    # Before convert: msgspec matches enums on UTF-8 bytes, and a lone
    # surrogate would raise UnicodeEncodeError there.
    unstorable = unstorable_field(builtins, "")
    if unstorable is not None:
        raise ValidationError(unstorable or "<input>", UNSTORABLE)
    try:
        return msgspec.convert(builtins, type_, builtin_types=_AS_IS)
    except (msgspec.ValidationError, TypeError) as exc:
        raise validation_error(exc) from None


def validated(value: M) -> M:
    """``value`` checked against its own type's annotations and constraints."""
    return convert(value, type(value))


def from_row(row: Mapping[str, Any], type_: type[M]) -> M:
    """A row model from a database record; its JSON documents are read tolerantly."""
    values = dict(row)
    for column, document in _DOCUMENT_COLUMNS.items():
        if isinstance(values.get(column), list):
            values[column] = read_documents(values[column], document)
    return msgspec.convert(values, type_)


D = TypeVar("D", bound=Document)


def read_documents(values: list[Any], type_: type[D]) -> list[D]:
    """JSON documents read tolerantly: whoever wrote them, one bad element never fails the read.

    An element that does not match its model (a status or log type the model
    does not know, such as the app's sub-agent ``starting``; a numeric
    timestamp) keeps its odd values as they were, so they are shown, and
    written back unchanged, rather than refused. An element that is not a JSON
    object, or lacks a required key, is marked: a log entry of type
    ``unreadable`` (a sub-agent of status ``unreadable``) whose message (name)
    is the element's JSON text.
    """
    return [_read_document(value, type_) for value in values]


def _read_document(value: Any, type_: type[D]) -> D:
    try:
        return msgspec.convert(value, type_)
    except msgspec.ValidationError:
        pass
    if isinstance(value, dict):
        fields: dict[str, Any] = {}
        for field in msgspec.structs.fields(type_):
            if field.encode_name in value:
                fields[field.name] = _read_value(value[field.encode_name], field.type)
        try:
            # The constructor does not check types: the odd values stay as they are.
            return type_(**fields)
        except TypeError:  # a required key is missing
            pass
    text = msgspec.json.encode(value).decode()[:MARKED_TEXT_LENGTH]
    marked: dict[str, Any]
    if issubclass(type_, LogEntry):
        marked = {"type": "unreadable", "message": text}
    elif issubclass(type_, SubAgentActivity):
        marked = {"id": "", "name": text, "status": "unreadable"}
    else:  # AgentSource, inside a log entry
        marked = {"name": text}
    return type_(**marked)


def _read_value(value: Any, annotation: Any) -> Any:
    try:
        return msgspec.convert(value, annotation)
    except msgspec.ValidationError:
        pass
    for option in get_args(annotation):
        if isinstance(value, dict) and isinstance(option, type) and issubclass(option, Document):
            return _read_document(value, option)
    return value


MARKED_TEXT_LENGTH = 2000
_DOCUMENT_COLUMNS: dict[str, type[Document]] = {
    "logs": LogEntry,
    "sub_agent_activity": SubAgentActivity,
}


def literal_values(literal: Any) -> frozenset[str]:
    """The values of a ``Literal`` type, e.g. to compare with a CHECK constraint."""
    return frozenset(get_args(literal))
