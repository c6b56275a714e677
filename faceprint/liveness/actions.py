"""The challenge actions and the names users may type for them."""

from __future__ import annotations

from enum import StrEnum

from .errors import InvalidChallenge


class Action(StrEnum):
    """What a challenge asks for. Left and right are the *subject's* own left and right."""

    BLINK = "blink"
    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"
    NOD = "nod"
    OPEN_MOUTH = "open_mouth"
    SMILE = "smile"


ALIASES: dict[str, Action] = {
    "left": Action.TURN_LEFT,
    "right": Action.TURN_RIGHT,
    "mouth": Action.OPEN_MOUTH,
    "open": Action.OPEN_MOUTH,
    "turn-left": Action.TURN_LEFT,
    "turn-right": Action.TURN_RIGHT,
    "open-mouth": Action.OPEN_MOUTH,
}

# Actions a person makes on purpose. Blinks also happen unbidden, so the order rules treat them apart.
DELIBERATE = frozenset(Action) - {Action.BLINK}

MIN_ACTIONS, MAX_ACTIONS = 1, 4  # what a verifier accepts; sessions issue 2-4 (see session.py)


def parse_action(name: str) -> Action:
    key = name.strip().lower().replace(" ", "_")
    if key in ALIASES:
        return ALIASES[key]
    try:
        return Action(key)
    except ValueError:
        known = ", ".join([a.value for a in Action] + sorted(ALIASES))
        raise InvalidChallenge(f"unknown action {name!r}; known: {known}", param="challenge") from None


def parse_actions(spec: str | list[str] | tuple[str, ...]) -> tuple[Action, ...]:
    """``"blink,left"`` or ``["blink", "turn_left"]`` -> (BLINK, TURN_LEFT), validated."""
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    actions = tuple(parse_action(n) for n in names if str(n).strip())
    if not MIN_ACTIONS <= len(actions) <= MAX_ACTIONS:
        raise InvalidChallenge(f"a challenge has {MIN_ACTIONS}-{MAX_ACTIONS} actions, not {len(actions)}", param="challenge")
    if len(set(actions)) != len(actions):
        raise InvalidChallenge("an action appears twice in the challenge", param="challenge")
    return actions
