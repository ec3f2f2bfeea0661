"""Turns client errors of entity actions into Home Assistant errors users can read."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from homeassistant.exceptions import HomeAssistantError

from .api import CleverCamAuthError, CleverCamError
from .const import DOMAIN
from .entity import CleverCamEntity


def action_error(error: CleverCamError) -> HomeAssistantError:
    """The translated error of a failed request (a 401 says the credentials were refused)."""
    if isinstance(error, CleverCamAuthError):
        return HomeAssistantError(translation_domain=DOMAIN, translation_key="invalid_auth")
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="action_failed",
        translation_placeholders={"error": str(error)},
    )


EntityT = TypeVar("EntityT", bound=CleverCamEntity)
P = ParamSpec("P")


def clevercam_action(
    func: Callable[Concatenate[EntityT, P], Coroutine[Any, Any, Any]],
) -> Callable[Concatenate[EntityT, P], Coroutine[Any, Any, None]]:
    """Decorate an entity action: a refused token starts reauth, every failure is raised."""

    async def handler(self: EntityT, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await func(self, *args, **kwargs)
        except CleverCamError as error:
            if isinstance(error, CleverCamAuthError):
                self.coordinator.config_entry.async_start_reauth(self.hass)
            raise action_error(error) from error

    return handler
