"""Models of the platform address book (``/api/v1/platforms``)."""

from __future__ import annotations

from typing import Annotated

import msgspec

Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2048,
                                  examples=["http://127.0.0.1:7778/acc"])]


class PlatformUrls(msgspec.Struct, forbid_unknown_fields=True):
    """A platform's FIPA HTTP MTP addresses."""

    urls: Annotated[list[Url], msgspec.Meta(min_length=1, max_length=16)]


class Platform(msgspec.Struct):
    name: str
    urls: list[str]
    source: Annotated[str, msgspec.Meta(description="config or api")]


class PlatformList(msgspec.Struct):
    platforms: list[Platform]
