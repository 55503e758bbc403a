"""Two costs Rasa 3.6 pays at every turn for nothing, taken away in the Rasa server (bot/rasa_run.py).

Profiled under load (docs/benchmarks.md, "Capacity"), a third of a Rasa process's CPU time went to
checking the action server's answers, and a few per cent to finding event classes by name:

- ``RemoteAction._validate_action_result`` calls ``jsonschema.validate(answer, schema)`` for every
  action's answer. That checks the (fixed) schema itself against the JSON Schema meta-schema each time,
  through its ``$dynamicRef``s and URL resolution, before checking the answer. Here the schema is
  checked once and its validator kept; each answer is checked as before and a bad one refused with
  Rasa's own error (the best match among the errors, Rasa's message added).
- ``Event.resolve_by_type`` walks the whole tree of event classes (and asks ``inspect.isabstract`` of
  each) for every event read from the tracker store or an action's answer. Here the walk's answer is
  kept by name; a name not found walks again (a class imported later), then answers as Rasa does.
"""

from __future__ import annotations

from typing import Any

_ERROR_ADVICE = (
    ". Failed to validate Action server response from API, make sure your response from the Action "
    "endpoint is valid. For more information about the format visit {docs}/custom-actions"
)


def install() -> None:
    """Both, once per process."""
    validate_answers_with_one_validator()
    find_event_classes_by_name_once()


def validate_answers_with_one_validator() -> None:
    from jsonschema import validators
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction, "answers_validated_once", False):
        return
    schema = RemoteAction.action_response_format_spec()
    kind = validators.validator_for(schema)
    kind.check_schema(schema)
    validator = kind(schema)

    def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is not None:
            error.message += _ERROR_ADVICE.format(docs=DOCS_BASE_URL)
            raise error
        return True

    RemoteAction._validate_action_result = validate_action_result
    RemoteAction.answers_validated_once = True


def find_event_classes_by_name_once() -> None:
    from rasa.shared.core import events

    if getattr(events.Event, "resolved_once", False):
        return
    original = events.Event.resolve_by_type
    found: dict[str, Any] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        if not isinstance(type_name, str):
            return original(type_name, default)  # whatever Rasa makes of it
        resolved = found.get(type_name)
        if resolved is not None:
            return resolved
        try:
            resolved = original(type_name)
        except ValueError:
            resolved = None
        if resolved is None:  # "topic", or a name no class has: Rasa's own answer (None, default, error)
            return original(type_name, default)
        found[type_name] = resolved
        return resolved

    events.Event.resolve_by_type = staticmethod(resolve_by_type)
    events.Event.resolved_once = True
