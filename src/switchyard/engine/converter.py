"""The data converter every Switchyard client, worker and replayer uses.

Temporal's default JSON converter sorts object keys. Users' data is JSON whose
key order means something to them (an API response, `{{ Steps.x.output }}`
interpolated as JSON, `Object.keys()` in an expression), so ours keeps the
order values were built in. Replay does not compare payload bytes, so the
choice does not affect determinism; it only must be the same everywhere a
payload is read back, which `DATA_CONVERTER` ensures.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import temporalio.api.common.v1
from temporalio.converter import (
    BinaryNullPayloadConverter,
    BinaryPlainPayloadConverter,
    BinaryProtoPayloadConverter,
    CompositePayloadConverter,
    DataConverter,
    JSONPlainPayloadConverter,
    JSONProtoPayloadConverter,
)


class OrderedJSONPayloadConverter(JSONPlainPayloadConverter):
    """`json/plain` like the SDK's, without sorting object keys."""

    def to_payload(self, value: Any) -> temporalio.api.common.v1.Payload | None:
        return temporalio.api.common.v1.Payload(
            metadata={"encoding": self.encoding.encode()},
            data=json.dumps(value, cls=self._encoder, separators=(",", ":")).encode(),
        )


class PayloadConverter(CompositePayloadConverter):
    """The SDK's default converters, with key-order-preserving JSON."""

    def __init__(self) -> None:
        super().__init__(
            BinaryNullPayloadConverter(),
            BinaryPlainPayloadConverter(),
            JSONProtoPayloadConverter(),
            BinaryProtoPayloadConverter(),
            OrderedJSONPayloadConverter(),  # last: it accepts anything JSON can encode
        )


DATA_CONVERTER = dataclasses.replace(
    DataConverter.default, payload_converter_class=PayloadConverter
)


async def connect(address: str, namespace: str = "default", **kwargs: Any) -> Any:
    """A Temporal client with Switchyard's data converter."""
    from temporalio.client import Client

    return await Client.connect(
        address, namespace=namespace, data_converter=DATA_CONVERTER, **kwargs
    )
