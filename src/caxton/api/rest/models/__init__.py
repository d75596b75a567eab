"""The REST API's request and response models (msgspec Structs), by resource.

Requests are decoded with these types (``caxton.api.rest.validation``) and ``/openapi.json`` is
generated from them (``caxton.api.rest.openapi``), so the document and the checks are one.
Response models describe what the service layer's JSON answers hold; the OpenAPI contract test
(``tests/integration/test_openapi_contract.py``) checks real answers against them.
"""
