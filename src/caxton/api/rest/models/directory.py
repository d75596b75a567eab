"""The directory facilitator (FIPA DF): descriptions, searches, registrations
(docs/directory.md). The domain (``caxton.domain.directory``) checks the rest: a service needs
a type or a name, strings must be printable, lease or lease_s but not both."""

from __future__ import annotations

from typing import Annotated

import msgspec

from caxton.api.rest.models.common import Address, DateTime, schema_extra
from caxton.domain.directory import MAX_ITEMS, MAX_LEASE_S, MAX_STRING

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_STRING,
                                   description="Printable characters.")]
Texts = Annotated[list[Text], msgspec.Meta(max_length=MAX_ITEMS)]
Properties = Annotated[dict[Text, Text | int | float | bool], msgspec.Meta(
    max_length=MAX_ITEMS, description="Named values: strings, numbers or booleans.")]


@schema_extra({"anyOf": [{"required": [key], "properties": {key: {"type": "string"}}}
                         for key in ("type", "name")]})
class ServiceDescription(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A service an agent offers (FIPA service-description); it needs a type or a name."""

    type: Annotated[Text | None, msgspec.Meta(examples=["translate"])] = None
    name: Text | None = None
    protocols: Texts | None = None
    ontologies: Texts | None = None
    languages: Texts | None = None
    ownership: Text | None = None
    properties: Properties | None = None


class ServiceTemplate(ServiceDescription):
    """A service a search looks for: every member optional."""


class _Description(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True,
                   kw_only=True):
    protocols: Texts | None = None
    ontologies: Texts | None = None
    languages: Texts | None = None


class _Leased(_Description, kw_only=True):
    services: Annotated[list[ServiceDescription], msgspec.Meta(max_length=MAX_ITEMS)] | None \
        = None
    lease: Annotated[DateTime | None, msgspec.Meta(
        description="When the registration lapses (RFC 3339).")] = None
    lease_s: Annotated[float, msgspec.Meta(gt=0, le=MAX_LEASE_S)] | None = None


_ONE_LEASE = {"not": {"required": ["lease", "lease_s"]}}


@schema_extra(_ONE_LEASE)
class Registration(_Leased, kw_only=True):
    """A df-agent-description to register; give lease or lease_s, not both."""

    agent: Address


@schema_extra(_ONE_LEASE)
class RegistrationUpdate(_Leased, kw_only=True):
    """A new description for the agent of the URL (``agent``, if given, must be that one)."""

    agent: Address | None = None


class Template(_Description, kw_only=True):
    """A search template: each member it gives must match (sets by inclusion)."""

    agent: Address | None = None
    services: Annotated[list[ServiceTemplate], msgspec.Meta(max_length=MAX_ITEMS)] | None = None


class SearchBody(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    template: Template | None = None
    max_results: Annotated[int | None, msgspec.Meta(
        description="At most this many (default 100; negative: all, up to 10000; not 0).")
    ] = None


class ServiceView(msgspec.Struct):
    name: str | None
    type: str | None
    protocols: list[str]
    ontologies: list[str]
    languages: list[str]
    ownership: str | None
    properties: dict[str, str | int | float | bool]


class RegistrationView(msgspec.Struct):
    agent: str
    services: list[ServiceView]
    protocols: list[str]
    ontologies: list[str]
    languages: list[str]
    lease: DateTime | None


class RegistrationList(msgspec.Struct):
    agents: list[RegistrationView]


class DirectoryQuery(msgspec.Struct):
    limit: Annotated[int, msgspec.Meta(ge=1, le=10_000, description="At most this many.")
                     ] = 100
