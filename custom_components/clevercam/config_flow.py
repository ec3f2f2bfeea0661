"""Config flow: address and credentials of a clevercam service, checked before saving.

The unique id is the service's own instance id (GET /api/health), so the same service found
at a new address updates its entry instead of becoming a second one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_SCAN_INTERVAL,
    CONF_TOKEN,
    CONF_USERNAME,
)
from homeassistant.core import callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_create_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from . import CleverCamConfigEntry
from .api import CleverCamAuthError, CleverCamClient, CleverCamError
from .const import (
    DEFAULT_PORT,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
)

AUTH_KEYS = (CONF_TOKEN, CONF_USERNAME, CONF_PASSWORD)
_SECRET = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
AUTH_SCHEMA = {
    vol.Optional(CONF_TOKEN): _SECRET,
    vol.Optional(CONF_USERNAME): TextSelector(),
    vol.Optional(CONF_PASSWORD): _SECRET,
}


def _address_schema(host: str | None = None, port: int = DEFAULT_PORT) -> dict[Any, Any]:
    host_key = vol.Required(CONF_HOST, default=host) if host else vol.Required(CONF_HOST)
    return {host_key: TextSelector(), vol.Required(CONF_PORT, default=port): cv.port}


def _auth_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Only the credentials given: a token, or a username with its password, or none."""
    return {key: user_input[key] for key in AUTH_KEYS if user_input.get(key)}


def _auth_error(auth: Mapping[str, Any]) -> str | None:
    if CONF_TOKEN in auth and (CONF_USERNAME in auth or CONF_PASSWORD in auth):
        return "token_or_login"
    if (CONF_USERNAME in auth) != (CONF_PASSWORD in auth):
        return "login_incomplete"
    return None


def _title(host: str, port: int) -> str:
    return f"clevercam {host}:{port}"


class CleverCamConfigFlow(ConfigFlow, domain=DOMAIN):
    VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: CleverCamConfigEntry) -> CleverCamOptionsFlow:
        return CleverCamOptionsFlow()

    async def _check(self, data: Mapping[str, Any]) -> tuple[str | None, dict[str, str]]:
        """The service's instance id, or the form's errors."""
        if error := _auth_error(data):
            return None, {"base": error}
        # A session of its own: a login's cookie must not stay in the shared cookie jar.
        session = async_create_clientsession(
            self.hass, auto_cleanup=False, cookie_jar=aiohttp.DummyCookieJar()
        )
        client = CleverCamClient(
            session,
            data[CONF_HOST],
            data[CONF_PORT],
            token=data.get(CONF_TOKEN),
            username=data.get(CONF_USERNAME),
            password=data.get(CONF_PASSWORD),
        )
        try:
            health = await client.health()
            await client.cameras()  # health may be open; this one needs the credentials
        except CleverCamAuthError:
            return None, {"base": "invalid_auth"}
        except CleverCamError as error:
            LOGGER.debug("Cannot connect to %s: %s", client.base_url, error)
            return None, {"base": "cannot_connect"}
        finally:
            session.detach()
        return str(health["instance_id"]), {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {
                CONF_HOST: user_input[CONF_HOST].strip(),
                CONF_PORT: user_input[CONF_PORT],
                **_auth_data(user_input),
            }
            instance_id, errors = await self._check(data)
            if instance_id:
                await self.async_set_unique_id(instance_id, raise_on_progress=False)
                self._abort_if_unique_id_configured(
                    updates={CONF_HOST: data[CONF_HOST], CONF_PORT: data[CONF_PORT]}
                )
                return self.async_create_entry(
                    title=_title(data[CONF_HOST], data[CONF_PORT]), data=data
                )
        schema = vol.Schema({**_address_schema(), **AUTH_SCHEMA})
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """New credentials for the same service; the entry reloads with them."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            address = {CONF_HOST: entry.data[CONF_HOST], CONF_PORT: entry.data[CONF_PORT]}
            data = {**address, **_auth_data(user_input)}
            instance_id, errors = await self._check(data)
            if instance_id:
                await self.async_set_unique_id(instance_id)
                self._abort_if_unique_id_mismatch(reason="wrong_service")
                return self.async_update_reload_and_abort(entry, data=data)
        suggested = {CONF_USERNAME: entry.data.get(CONF_USERNAME)} if user_input is None else None
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(AUTH_SCHEMA), suggested or user_input
            ),
            description_placeholders={"title": entry.title},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A new address of the same service (its credentials stay)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            address = {CONF_HOST: user_input[CONF_HOST].strip(), CONF_PORT: user_input[CONF_PORT]}
            data = {**address, **_auth_data(entry.data)}
            instance_id, errors = await self._check(data)
            if instance_id:
                await self.async_set_unique_id(instance_id)
                self._abort_if_unique_id_mismatch(reason="wrong_service")
                return self.async_update_reload_and_abort(
                    entry, title=_title(address[CONF_HOST], address[CONF_PORT]), data=data
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=vol.Schema(_address_schema(entry.data[CONF_HOST], entry.data[CONF_PORT])),
            errors=errors,
        )


class CleverCamOptionsFlow(OptionsFlow):
    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        if user_input is not None:
            return self.async_create_entry(
                data={CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL])}
            )
        current = self.config_entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_SCAN_INTERVAL, default=current): NumberSelector(
                        NumberSelectorConfig(
                            min=MIN_SCAN_INTERVAL,
                            max=MAX_SCAN_INTERVAL,
                            step=1,
                            unit_of_measurement="s",
                            mode=NumberSelectorMode.BOX,
                        )
                    )
                }
            ),
        )
